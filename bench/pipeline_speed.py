"""How fast is the face pipeline on 12-MP photos: per stage, and in photos/s with 1 and 2 workers?

Prints figures; asserts nothing. The shared group photos are upscaled to about 12 MP (what a phone
or camera delivers) in a temporary folder first. Compare settings with `--size PX --upsample N`.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import statistics
import sys
import tempfile
import time
from multiprocessing.synchronize import Barrier
from pathlib import Path

import numpy as np
from PIL import Image

from consentlens.photos.faces.detector import EngineSettings, FaceEngine

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces"
GROUPS = ("kit_with_rose.jpg", "obama_and_biden.jpg", "children_8.jpg", "group_14.jpg")
TARGET_PIXELS = 12_000_000

_engine: FaceEngine | None = None


def make_photos(folder: Path) -> list[Path]:
    """The group photos enlarged to about 12 MP, saved as camera-like JPEGs."""
    paths = []
    for name in GROUPS:
        with Image.open(FACES / "groups" / name) as image:
            factor = math.sqrt(TARGET_PIXELS / (image.width * image.height))
            size = (round(image.width * factor), round(image.height * factor))
            path = folder / name
            image.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(path, quality=90)
            paths.append(path)
    return paths


def stages(engine: FaceEngine, path: Path) -> tuple[float, float, float, int]:
    """Seconds spent decoding, detecting and embedding one photo, and the faces embedded."""
    t0 = time.perf_counter()
    image = engine.load(path)
    pixels = np.ascontiguousarray(np.asarray(image.image))
    t1 = time.perf_counter()
    boxes = engine.locate(pixels)
    t2 = time.perf_counter()
    embedded = [engine.embed(pixels, b) for b in boxes if b.side >= engine.settings.min_face_px]
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, len(embedded)


def _start_worker(settings: EngineSettings, ready: Barrier) -> None:
    global _engine
    _engine = FaceEngine(settings)
    _engine.warm_up()
    ready.wait()


def _work(path: Path) -> int:
    assert _engine is not None
    return len(_engine.analyse(path).faces)


def throughput(settings: EngineSettings, paths: list[Path], workers: int) -> float:
    """Photos per second over `paths` with a pool of `workers` processes, start-up excluded."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers + 1)
    with context.Pool(workers, initializer=_start_worker, initargs=(settings, ready)) as pool:
        ready.wait()  # every worker has loaded its models: start-up is not timed
        started = time.perf_counter()
        pool.map(_work, paths, chunksize=1)
        return len(paths) / (time.perf_counter() - started)


def main() -> None:
    """Make the photos, time the stages in this process, then the throughput of worker pools."""
    defaults = EngineSettings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=defaults.max_side, help="analysis long side")
    parser.add_argument("--upsample", type=int, default=defaults.upsample)
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per photo")
    parser.add_argument("--copies", type=int, default=6, help="photos per throughput run")
    args = parser.parse_args()
    if not FACES.is_dir():
        sys.exit(f"test photos not found at {FACES}")
    settings = EngineSettings(max_side=args.size, upsample=args.upsample)
    print(f"settings: {settings}")

    with tempfile.TemporaryDirectory(prefix="consentlens-bench-") as folder:
        paths = make_photos(Path(folder))
        engine = FaceEngine(settings)
        started = time.perf_counter()
        engine.warm_up()
        print(f"models loaded in {time.perf_counter() - started:.2f} s\n")

        print("== One process, median of each stage")
        print(
            f"{'photo':22} {'pixels':>11} {'faces':>5} {'decode':>7} {'detect':>7} "
            f"{'embed':>7} {'total':>7} {'photo/s':>7}"
        )
        for path in paths:
            with Image.open(path) as image:
                size = f"{image.width}×{image.height}"
            runs = [stages(engine, path) for _ in range(args.rounds)]
            decode, detect, embed = (statistics.median(r[i] for r in runs) for i in range(3))
            total = decode + detect + embed
            print(
                f"{path.name:22} {size:>11} {runs[0][3]:5} {decode:6.3f}s {detect:6.3f}s "
                f"{embed:6.3f}s {total:6.3f}s {1 / total:7.2f}"
            )

        full = []
        for path in paths:
            with Image.open(path) as image:
                t0 = time.perf_counter()
                image.load()
                full.append(time.perf_counter() - t0)
        print(f"(for comparison, a full-size decode: {statistics.median(full):.3f} s)\n")

        print("== Worker processes (spawned, models loaded once each), photos/s")
        print(f"{'photo':22} {'1 worker':>9} {'2 workers':>9}")
        for path in paths:
            batch = [path] * args.copies
            rates = [throughput(settings, batch, workers) for workers in (1, 2)]
            print(f"{path.name:22} {rates[0]:9.2f} {rates[1]:9.2f}")
        mixed = paths * max(1, args.copies // 2)
        rates = [throughput(settings, mixed, workers) for workers in (1, 2)]
        print(f"{'all four, mixed':22} {rates[0]:9.2f} {rates[1]:9.2f}")


if __name__ == "__main__":
    main()
