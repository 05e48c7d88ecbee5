"""How well does the face engine find and recognise faces on the shared test photos?

Prints figures; asserts nothing. Compare settings, e.g.
`.venv/bin/python bench/accuracy.py --size 1024 --upsample 2`. The shared group photos are small
(1024 px) with large faces; `--megapixels 12` enlarges them to a camera's size first, and
`--mosaic 2` tiles each one 2×2 into the same frame: four times the faces at half the size, as in a
photo of a larger team taken from further back.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from consentlens.consent.policy import FaceStatus
from consentlens.photos.faces.detector import EngineSettings, FaceEngine
from consentlens.photos.faces.imaging import AnalysisImage
from consentlens.photos.faces.matching import Reference, ReferenceSet, match_face

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces"
# Face sizes (box side, analysis pixels) at which recognition is tried on shrunk portraits.
FACE_SIZES = (100, 80, 60, 50, 40, 32, 25, 20)


def largest_face(engine: FaceEngine, image: AnalysisImage) -> tuple[np.ndarray | None, int]:
    """Embedding and box side of the largest face, detected even when small."""
    pixels = np.asarray(image.image)
    boxes = engine.locate(pixels)
    if not boxes:
        return None, 0
    box = max(boxes, key=lambda b: b.side)
    return np.array(engine.embed(pixels, box)), box.side


def shrunk(image: AnalysisImage, factor: float) -> AnalysisImage:
    """The analysis image scaled by `factor`."""
    size = (max(1, round(image.size[0] * factor)), max(1, round(image.size[1] * factor)))
    small = image.image.resize(size, Image.Resampling.LANCZOS)
    return AnalysisImage(image=small, original_size=image.original_size)


def prepared(path: Path, megapixels: float, mosaic: int) -> Path | io.BytesIO:
    """The photo as stored, or enlarged to `megapixels` and tiled `mosaic`×`mosaic`, as a JPEG."""
    if not megapixels and mosaic == 1:
        return path
    with Image.open(path) as original:
        image = original.convert("RGB")
    if megapixels:
        factor = math.sqrt(megapixels * 1e6 / (image.width * image.height))
        image = image.resize(
            (round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS
        )
    if mosaic > 1:
        tile = image.resize(
            (image.width // mosaic, image.height // mosaic), Image.Resampling.LANCZOS
        )
        canvas = Image.new("RGB", image.size)
        for row in range(mosaic):
            for column in range(mosaic):
                canvas.paste(tile, (column * tile.width, row * tile.height))
        image = canvas
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    buffer.seek(0)
    return buffer


Embedding = np.ndarray | None


def detection(
    engine: FaceEngine, labels: dict, args: argparse.Namespace
) -> list[tuple[str, Embedding]]:
    """Print faces found per group photo against the count; return each face's embedding."""
    print("== Detection on group photos (faces found / counted by eye)")
    print(
        f"{'photo':28} {'found':>5} {'count':>5} {'small':>5} {'min px':>6} "
        f"{'decode':>7} {'detect':>7} {'embed':>7}"
    )
    found_total = counted_total = 0
    faces: list[tuple[str, Embedding]] = []
    for name, label in sorted(labels.items()):
        if label["kind"] not in ("group", "negative"):
            continue
        source = prepared(FACES / name, args.megapixels, args.mosaic)
        t0 = time.perf_counter()
        image = engine.load(source)
        t1 = time.perf_counter()
        pixels = np.asarray(image.image)
        boxes = engine.locate(pixels)
        t2 = time.perf_counter()
        small = 0
        for box in boxes:
            if box.side < engine.settings.min_face_px:
                small += 1
                faces.append((name, None))
            elif not args.detection_only:
                faces.append((name, np.array(engine.embed(pixels, box))))
        t3 = time.perf_counter()
        counted = label["faces"] * args.mosaic**2
        found_total += min(len(boxes), counted)
        counted_total += counted
        smallest = min((b.side for b in boxes), default=0)
        print(
            f"{name:28} {len(boxes):5} {counted:5} {small:5} {smallest:6} "
            f"{t1 - t0:6.2f}s {t2 - t1:6.2f}s {t3 - t2:6.2f}s   ({image.size[0]}×{image.size[1]})"
        )
    print(
        f"detection rate: {found_total}/{counted_total} = {found_total / counted_total:.1%}"
        " (found capped at the count per photo)\n"
    )
    return faces


def portraits(
    engine: FaceEngine, labels: dict
) -> tuple[dict[str, np.ndarray], list[tuple[str, str, Embedding, int]]]:
    """Embeddings of the reference portraits per person, and of the other portraits."""
    references: dict[str, np.ndarray] = {}
    others: list[tuple[str, str, Embedding, int]] = []
    for name, label in sorted(labels.items()):
        if label["kind"] != "portrait":
            continue
        person = label["persons"][0]
        embedding, side = largest_face(engine, engine.load(FACES / name))
        if label.get("reference"):
            if embedding is None:
                print(f"!! no face in reference {name}")
                continue
            references[person] = embedding
        else:
            others.append((name, person, embedding, side))
    return references, others


def identification(
    references: dict[str, np.ndarray],
    tests: list[tuple[str, str, Embedding, int]],
    group_faces: list[tuple[str, Embedding]],
) -> dict[str, list[np.ndarray]]:
    """Print who each test face is taken for; return each person's faces (for the distances)."""
    everyone = ReferenceSet.build(Reference(p, e) for p, e in references.items())
    faces_of: dict[str, list[np.ndarray]] = {person: [] for person in references}

    print("== Identification: reference portraits enrolled, the other portraits presented")
    outcomes = Counter[str]()
    for name, person, embedding, side in tests:
        if embedding is None:
            print(f"{name:36} no face found")
            outcomes["not identified"] += 1
            continue
        faces_of[person].append(embedding)
        result = match_face(embedding, everyone)
        if result.status is FaceStatus.IDENTIFIED:
            outcomes["right" if result.person_id == person else "WRONG"] += 1
        else:
            outcomes["not identified"] += 1
        runner = f"{result.runner_up_distance:.3f}" if result.runner_up_distance else "-"
        print(
            f"{name:36} {side:4}px {result.status.value:10} {result.person_id!s:15} "
            f"d={result.distance:.3f} next={runner}"
        )
    print(f"portraits: {dict(outcomes)}\n")

    print("== Faces in group photos, all five enrolled")
    for photo in sorted({name for name, _ in group_faces}):
        results = []
        for name, embedding in group_faces:
            if name != photo:
                continue
            result = match_face(embedding, everyone)
            results.append(result)
            # Group faces carry no per-face label: take a confident match as that person's face.
            if result.status is FaceStatus.IDENTIFIED and embedding is not None:
                faces_of[str(result.person_id)].append(embedding)
        tally = Counter(
            f"{r.status.value} {r.person_id}" if r.person_id else r.status.value for r in results
        )
        distances = sorted(f"{r.distance:.3f}" for r in results if r.distance is not None)
        print(f"{photo:28} {dict(sorted(tally.items()))}  d: {' '.join(distances)}")
    print()
    return faces_of


def strangers(references: dict[str, np.ndarray], faces_of: dict[str, list[np.ndarray]]) -> None:
    """Leave each person out of enrolment in turn: is any of their faces taken for someone else?"""
    print("== Strangers: each person left out of enrolment, their faces presented")
    wrongly = 0
    for left_out, faces in faces_of.items():
        others = ReferenceSet.build(Reference(p, e) for p, e in references.items() if p != left_out)
        results = [match_face(face, others) for face in faces]
        wrongly += sum(r.status is FaceStatus.IDENTIFIED for r in results)
        statuses = ", ".join(f"{r.status.value}@{r.distance:.3f}" for r in results)
        print(f"{left_out:15} {len(faces)} faces -> {statuses}")
    print(f"strangers identified as someone else: {wrongly}\n")


def distances(
    references: dict[str, np.ndarray],
    faces_of: dict[str, list[np.ndarray]],
    group_faces: list[tuple[str, Embedding]],
    labels: dict,
) -> None:
    """Print the same-person and nearest-stranger distances measured on this set."""
    print("== Distances (Euclidean, 128-D) to the reference portraits")
    same = [float(np.linalg.norm(f - references[p])) for p, fs in faces_of.items() for f in fs]
    apart = [
        float(np.linalg.norm(f - references[q]))
        for p, fs in faces_of.items()
        for f in fs
        for q in references
        if q != p
    ]
    print(f"same person: n={len(same)} mean={np.mean(same):.3f} max={max(same):.3f}")
    print(f"strangers:   n={len(apart)} min={min(apart):.3f} mean={np.mean(apart):.3f}")
    unnamed = [
        min(float(np.linalg.norm(e - r)) for r in references.values())
        for n, e in group_faces
        if e is not None and not labels[n]["persons"]
    ]
    if unnamed:
        print(f"unenrolled people in group photos: n={len(unnamed)}, nearest {min(unnamed):.3f}")
    print()


def face_sizes(
    settings: EngineSettings,
    references: dict[str, np.ndarray],
    tests: list[tuple[str, str, Embedding, int]],
) -> None:
    """Print how the distances drift as the test portraits are shrunk to smaller faces."""
    print("== Recognition against face size (portraits shrunk; own distance / nearest other)")
    print(f"{'person':15} " + " ".join(f"{s:>11}" for s in FACE_SIZES))
    # Upsample 2 so that even 20-px faces are found: this measures recognition, not detection.
    locating = FaceEngine(EngineSettings(max_side=settings.max_side, upsample=2))
    for name, person, _, _ in tests:
        if "exif" in name:
            continue
        image = locating.load(FACES / name)
        _, side = largest_face(locating, image)
        cells = []
        for target in FACE_SIZES:
            embedding, got = largest_face(locating, shrunk(image, target / side))
            if embedding is None:
                cells.append(f"{'miss':>11}")
                continue
            own = float(np.linalg.norm(embedding - references[person]))
            other = min(
                float(np.linalg.norm(embedding - e)) for q, e in references.items() if q != person
            )
            cells.append(f"{got:3}:{own:.2f}/{other:.2f}")
        print(f"{person:15} " + " ".join(cells))


def main() -> None:
    """Run every measurement and print it."""
    defaults = EngineSettings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=defaults.max_side, help="analysis long side")
    parser.add_argument("--upsample", type=int, default=defaults.upsample)
    parser.add_argument("--threshold", type=float, default=defaults.score_threshold)
    parser.add_argument("--min-face", type=int, default=defaults.min_face_px)
    parser.add_argument("--megapixels", type=float, default=0, help="enlarge group photos first")
    parser.add_argument("--mosaic", type=int, default=1, help="tile group photos N×N")
    parser.add_argument("--detection-only", action="store_true", help="skip recognition")
    args = parser.parse_args()
    if not FACES.is_dir():
        sys.exit(f"test photos not found at {FACES}")
    labels = json.loads((FACES / "labels.json").read_text())["files"]
    settings = EngineSettings(
        max_side=args.size,
        upsample=args.upsample,
        score_threshold=args.threshold,
        min_face_px=args.min_face,
    )
    engine = FaceEngine(settings)
    started = time.perf_counter()
    engine.warm_up()
    print(f"settings: {settings}  megapixels={args.megapixels} mosaic={args.mosaic}")
    print(f"models loaded in {time.perf_counter() - started:.2f} s\n")

    group_faces = detection(engine, labels, args)
    if args.detection_only:
        return
    references, tests = portraits(engine, labels)
    faces_of = identification(references, tests, group_faces)
    strangers(references, faces_of)
    distances(references, faces_of, group_faces, labels)
    face_sizes(settings, references, tests)


if __name__ == "__main__":
    main()
