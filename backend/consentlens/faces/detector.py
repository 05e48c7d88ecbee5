"""The face engine: one detector (CenterFace by default, or dlib's HOG) and dlib's 128-D
embeddings, with models loaded once per process.

Both detectors return the same boxes: square, in analysis-image pixels, shaped like the HOG boxes
the embedding, the head cover and the review crop were tuned on. Figures behind the defaults come
from `bench/accuracy.py` and `bench/pipeline.py`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from consentlens.core.config import get_settings
from consentlens.faces import centerface
from consentlens.faces.imaging import AnalysisImage, PhotoSource, load_for_analysis

Detector = Literal["centerface", "hog"]
# (k, n): the k-th of n processes analysing one photo together.
Share = tuple[int, int]


def _configured_detector() -> Detector:
    return get_settings().face_detector


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How photos are analysed; the defaults are the measured choice for 12-MP photos on 2 cores."""

    # HOG finds faces down to about 80 px / 2**upsample of the analysis image, and its cost grows
    # with the pixels it scans, so reach costs the same whether bought with size or upsampling.
    # 1600 px with upsample 1 reaches faces of about 2.5% of the photo's long side (100 px of a
    # 4000-px photo): 97.9-100% of the faces in the bench's 12-MP group photos even when tiled 3×3,
    # where 1024/upsample 1 or 2000/upsample 0 find half. It costs about 0.65 s per 12-MP photo,
    # hence 2.3 photos/s on 2 cores with 2-3 faces. Upsample 2 adds only faces too small to
    # recognise at 4× the cost. A 1600-px target still lets DCT draft decoding halve the JPEG.
    max_side: int = 1600
    upsample: int = 1
    # Shrinking portraits, the same-person distance stays within 0.06 of full size down to about
    # 40 px, then crosses the strict threshold (0.42-0.50 at 32 px, up to 0.64 at 22 px): smaller
    # faces get no embedding and are reported too small, so they stay blurred.
    min_face_px: int = 40
    # Below dlib's calibrated 0.0: a missed face is shown uncovered (a leak), a false face only
    # costs a covered patch of background. At -0.2 (1600 px, upsample 1) the shared photos give
    # 27 of 27 counted faces, including the child in `children_8` scoring -0.1, and still no
    # false face on the dog photos; -0.3 puts one on them. Re-measured with `bench/accuracy.py`.
    score_threshold: float = -0.2
    # Each extra jitter is another full network pass (~75 ms per face here).
    num_jitters: int = 1
    detector: Detector = field(default_factory=_configured_detector)
    # CenterFace at a 1024-px input, score ≥ 0.4 (FACES.md, bench/accuracy.py): 97% of the faces
    # of a held-out set of group photos; at 0.2, or at inputs of 1600 px and more, it boxes animals.
    centerface_input: int = 1024
    centerface_threshold: float = 0.4

    def __post_init__(self) -> None:
        if self.max_side < 80:
            raise ValueError("max_side must be at least 80 pixels (the HOG window)")
        if not 0 <= self.upsample <= 3:
            raise ValueError("upsample must be between 0 and 3")
        if self.min_face_px < 1 or self.num_jitters < 1:
            raise ValueError("min_face_px and num_jitters must be positive")
        if self.detector not in ("centerface", "hog"):
            raise ValueError("detector must be centerface or hog")
        if self.centerface_input < 32 or not 0 < self.centerface_threshold < 1:
            raise ValueError("centerface_input must be ≥ 32 and centerface_threshold in (0, 1)")


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A detection in analysis-image pixels, before embedding."""

    left: int
    top: int
    width: int
    height: int
    score: float
    # Which of dlib's five HOG filters fired: 0 frontal, 1-2 turned left/right, 3-4 tilted
    # (always 0 for CenterFace).
    filter_index: int = 0

    @property
    def side(self) -> int:
        """The shorter side: what the size rule judges."""
        return min(self.width, self.height)


@dataclass(frozen=True, slots=True)
class DetectedFace:
    """One face of a photo: where it is, how sure the detector is, and what it looks like."""

    # (x, y, w, h) in pixels of the original after EXIF orientation, clipped to the photo.
    box: tuple[int, int, int, int]
    score: float
    # 128 floats (dlib ResNet); None when the face is too small to recognise reliably.
    embedding: tuple[float, ...] | None
    too_small: bool
    # Box side in the analysis image, the number the size rule was applied to.
    analysis_px: int


@dataclass(frozen=True, slots=True)
class PhotoFaces:
    """The faces of one photo and the size of the oriented original they refer to."""

    original_size: tuple[int, int]
    faces: tuple[DetectedFace, ...]
    # The decoded analysis image, kept so that the derivatives are rendered without decoding the
    # original again (its long side is the display size); not part of the result's identity.
    image: AnalysisImage | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class _Models:
    detector: Any
    shape_predictor: Any
    recogniser: Any


_models: _Models | None = None
_models_lock = threading.Lock()
# dlib's networks keep per-call state in the model object: calls are serialised per process. A
# second thread with its own copy of the networks embeds no faster (measured 2026-12-03, dlib-bin):
# parallelism comes from worker processes, one engine each.
_inference_lock = threading.Lock()


def _load_models() -> _Models:
    global _models
    if _models is None:
        with _models_lock:
            if _models is None:
                # Imported here: importing this module (e.g. for its dataclasses) stays cheap.
                import dlib
                import face_recognition_models

                _models = _Models(
                    detector=dlib.get_frontal_face_detector(),
                    shape_predictor=dlib.shape_predictor(
                        face_recognition_models.pose_predictor_five_point_model_location()
                    ),
                    recogniser=dlib.face_recognition_model_v1(
                        face_recognition_models.face_recognition_model_location()
                    ),
                )
    return _models


def _pixels(image: AnalysisImage) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.image, dtype=np.uint8))


class FaceEngine:
    """Detect faces and compute their embeddings; cheap to create, safe to share between threads."""

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()

    def warm_up(self) -> None:
        """Load the models now (≈1 s) rather than on the first photo, e.g. when a worker starts."""
        _load_models()
        if self.settings.detector == "centerface":
            centerface.warm_up()

    def load(self, source: PhotoSource) -> AnalysisImage:
        """Decode a photo at this engine's analysis size; raises `UnreadablePhoto`."""
        return load_for_analysis(source, max_side=self.settings.max_side)

    def analyse(self, source: PhotoSource, share: Share = (0, 1)) -> PhotoFaces:
        """Decode a photo, find its faces and embed those large enough to recognise.

        With `share=(k, n)` only every n-th face large enough to embed, from the k-th on, is
        embedded: n processes that analyse the same photo each embed their share (detection is
        deterministic, so they find the same faces in the same order) and `combine_shares` puts
        the embeddings together.
        """
        image = self.load(source)
        return PhotoFaces(
            original_size=image.original_size, faces=self.detect(image, share), image=image
        )

    def detect(self, image: AnalysisImage, share: Share = (0, 1)) -> tuple[DetectedFace, ...]:
        """Faces of an analysis image, boxes in the oriented original's pixels."""
        pixels = _pixels(image)
        index, shares = share
        if not 0 <= index < shares:
            raise ValueError(f"share {index} of {shares}")
        faces = []
        embeddable = 0  # shares take turns over the faces to embed, so each gets as many
        for box in self.locate(pixels):
            too_small = box.side < self.settings.min_face_px
            mine = not too_small and embeddable % shares == index
            embeddable += not too_small
            faces.append(
                DetectedFace(
                    box=image.to_original(_clipped(box, pixels.shape[1], pixels.shape[0])),
                    score=box.score,
                    embedding=None if too_small or not mine else self.embed(pixels, box),
                    too_small=too_small,
                    analysis_px=box.side,
                )
            )
        return tuple(faces)

    def locate(self, pixels: np.ndarray) -> list[FaceBox]:
        """Detections in an RGB uint8 array, strongest first; boxes may overrun the edges."""
        if self.settings.detector == "centerface":
            return self._locate_centerface(pixels)
        return self._locate_hog(pixels)

    def _locate_centerface(self, pixels: np.ndarray) -> list[FaceBox]:
        found = centerface.detect(
            pixels,
            input_side=self.settings.centerface_input,
            threshold=self.settings.centerface_threshold,
        )
        return [squared(box) for box in found]

    def _locate_hog(self, pixels: np.ndarray) -> list[FaceBox]:
        models = _load_models()
        with _inference_lock:
            rects, scores, filters = models.detector.run(
                pixels, self.settings.upsample, self.settings.score_threshold
            )
        boxes = [
            FaceBox(
                left=rect.left(),
                top=rect.top(),
                width=rect.width(),
                height=rect.height(),
                score=float(score),
                filter_index=int(index),
            )
            for rect, score, index in zip(rects, scores, filters, strict=True)
        ]
        return sorted(boxes, key=lambda b: -b.score)

    def embed(self, pixels: np.ndarray, box: FaceBox) -> tuple[float, ...]:
        """The 128-D embedding of the face in `box`, aligned on its 5 landmarks."""
        import dlib

        models = _load_models()
        # dlib rectangles are inclusive: width() is right - left + 1.
        rect = dlib.rectangle(box.left, box.top, box.left + box.width - 1, box.top + box.height - 1)
        with _inference_lock:
            shape = models.shape_predictor(pixels, rect)
            descriptor = models.recogniser.compute_face_descriptor(
                pixels, shape, self.settings.num_jitters
            )
        return tuple(float(value) for value in descriptor)


# CenterFace boxes run from the forehead to below the chin, taller than dlib's. Squared to
# 1.12 × their width and moved down by 0.05 × their height (fitted on 222 faces found by both),
# they give the same embeddings as HOG boxes (median distance 0.036, same identifications).
SQUARE_SIDE = 1.12
SQUARE_SHIFT = 0.05


def squared(box: centerface.RawBox) -> FaceBox:
    """A CenterFace box as the square box the embedding, cover and crop expect."""
    width, height = box.right - box.left, box.bottom - box.top
    side = SQUARE_SIDE * width
    centre_x = box.left + width / 2
    centre_y = box.top + height / 2 + SQUARE_SHIFT * height
    return FaceBox(
        left=round(centre_x - side / 2),
        top=round(centre_y - side / 2),
        width=max(1, round(side)),
        height=max(1, round(side)),
        score=box.score,
    )


def _clipped(box: FaceBox, width: int, height: int) -> tuple[int, int, int, int]:
    left, top = max(0, box.left), max(0, box.top)
    right = min(width, box.left + box.width)
    bottom = min(height, box.top + box.height)
    return left, top, max(0, right - left), max(0, bottom - top)


class SharesDisagree(ValueError):
    """Processes that analysed one photo together found different faces."""


def combine_shares(parts: list[PhotoFaces]) -> PhotoFaces:
    """One photo's faces from the shares of `analyse(..., share=(k, n))`, k = 0 … n-1 in order.

    The image of the first share is kept. Raises `SharesDisagree` unless every share found the
    same faces at the same places, so a face can never lose its embedding (or its cover) here.
    """
    first = parts[0]
    layout = [(f.box, f.too_small) for f in first.faces]
    for part in parts[1:]:
        if (
            part.original_size != first.original_size
            or [(f.box, f.too_small) for f in part.faces] != layout
        ):
            raise SharesDisagree("the shares of one photo found different faces")
    faces = []
    embeddable = 0
    for n, face in enumerate(first.faces):
        faces.append(face if face.too_small else parts[embeddable % len(parts)].faces[n])
        embeddable += not face.too_small
    return PhotoFaces(original_size=first.original_size, faces=tuple(faces), image=first.image)
