"""How fast is the whole photo pipeline on 12-MP photos: per stage, end to end, and in memory?

Prints figures; asserts nothing. Run with `make bench` or `.venv/bin/python bench/pipeline.py`.

The shared group photos are enlarged to camera size (about 12 MP, JPEG quality 90) in a temporary
folder, plus a wide "team photo" of two group photos side by side (28 faces). A throw-away SQLite
database is migrated and a club with five enrolled children is created through the services. Then:

1. end to end: batches of uploaded photos drained by the real photo worker with 1 and 2 analysis
   processes (timed from the commit of the uploads to the last photo analysed; the start-up of the
   processes is measured apart), the latency of one team photo alone, and the peak memory;
2. per stage, in this process: decode (DCT draft), detect, embed, match + database write +
   verdicts (`processing.finish`), and rendering the thumb and display derivatives
   (`serving.image`).

Targets (issue 12): ≥ 3 photos/s on 2 cores for a 12-MP photo with ≤ 5 faces; a 26-face team photo
in ≤ 1.5 s. Both detectors are measured side by side by default (`--detector both`), with their
ratio.
Other work on the machine slows everything down: the load average is printed with the figures.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Settings are read once per process: point them at a throw-away directory before consentlens is
# imported. Spawned analysis processes import this module again and inherit the same directory.
VAR = Path(os.environ.get("CONSENTLENS_BENCH_VAR") or tempfile.mkdtemp(prefix="consentlens-bench-"))
os.environ["CONSENTLENS_BENCH_VAR"] = str(VAR)
os.environ["CONSENTLENS_VAR_DIR"] = str(VAR)
os.environ["CONSENTLENS_RUN_WORKER"] = "false"
for _name in ("CONSENTLENS_DATABASE_URL", "CONSENTLENS_MEDIA_DIR"):
    os.environ.pop(_name, None)

import argparse
import io
import itertools
import json
import math
import multiprocessing
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from PIL import Image, ImageOps
from sqlmodel import Session, col, func, select

from consentlens import wiring
from consentlens.auth import service as accounts
from consentlens.auth.models import Role, User
from consentlens.consent import service as consent
from consentlens.core.db import writer_session
from consentlens.core.tables import utcnow
from consentlens.db import migrate
from consentlens.faces import (
    enrollment,
    processing,
    serving,
    verdicts,
)
from consentlens.faces.detector import (
    DetectedFace,
    EngineSettings,
    FaceBox,
    FaceEngine,
    PhotoFaces,
)
from consentlens.jobs.worker import Worker
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people import guardianships
from consentlens.photos import service, storage
from consentlens.photos.models import Event, Photo, PhotoStatus

FACES = Path(__file__).resolve().parents[1].parent / "shared" / "testdata" / "faces"
TARGET_PIXELS = 12_000_000
UNFINISHED = (PhotoStatus.PENDING.value, PhotoStatus.PROCESSING.value)
TARGET_RATE = 3.0  # photos/s on 2 cores, 12 MP, ≤ 5 faces
TARGET_TEAM_SECONDS = 1.5  # one 26-face team photo, gallery-ready (issue 12)
TARGET_EVENT_SECONDS = 120.0  # a 300-photo event, mostly ≤ 5 faces, some team photos
SessionFactory = Callable[[], Session]


# -- A club in a throw-away database (also used by bench/accuracy.py) -----------------------------


def load_labels() -> dict[str, dict]:
    if not FACES.is_dir():
        sys.exit(f"test photos not found at {FACES}")
    return json.loads((FACES / "labels.json").read_text())["files"]


def reference_portraits(labels: dict[str, dict]) -> dict[str, str]:
    """Person → the portrait labels.json marks as their enrolment photo."""
    return {
        label["persons"][0]: name
        for name, label in sorted(labels.items())
        if label["kind"] == "portrait" and label.get("reference")
    }


def database() -> SessionFactory:
    """Wire the process, migrate the throw-away SQLite database; a factory of sessions on it."""
    # An entry point like the CLI: guards, and the listener that re-judges photos on consent.
    wiring.install_process()
    migrate.upgrade()
    # As the CLI's worker: the analysis processes write too, so a writing transaction takes
    # SQLite's write lock when it begins and waits for it, instead of failing when it upgrades.
    return writer_session


@dataclass
class Club:
    """Ids of what the bench created; objects are re-read in each session."""

    organisation_id: int
    event_id: int
    staff_id: int
    children: dict[str, int]  # person (labels.json) → child id
    # Per person, the photo uses they refused (everything else is granted).
    refused: dict[str, set[str]] = field(default_factory=dict)

    def organisation(self, session: Session) -> Organisation:
        found = session.get(Organisation, self.organisation_id)
        assert found is not None
        return found

    def consented(self, person: str, use: str) -> bool:
        return use not in self.refused.get(person, set())


def make_club(session: Session, portraits: dict[str, str], refused: dict[str, set[str]]) -> Club:
    """An organisation, staff, a guardian, the persons as children with their consent decisions
    (face recognition granted to all), each enrolled from their reference portrait, and an event.
    """
    organisation = organisations.create_organisation(
        session=session, name="Bench club", today=utcnow().date()
    )
    staff = accounts.create_user(session=session, email="staff@bench.test", full_name="Staff")
    accounts.add_membership(session=session, user=staff, organisation=organisation, role=Role.STAFF)
    guardian = accounts.create_user(session=session, email="parent@bench.test", full_name="Parent")
    accounts.add_membership(
        session=session, user=guardian, organisation=organisation, role=Role.GUARDIAN
    )
    team = group_service.create_group(session=session, organisation=organisation, name="Team")
    uses = consent.list_uses(session=session, organisation=organisation)
    children = {}
    for person, portrait in portraits.items():
        first, _, last = person.replace("_", " ").title().partition(" ")
        child = child_service.create_child(
            session=session,
            organisation=organisation,
            first_name=first,
            last_name=last or "Bench",
            birth_date=date(2016, 5, 1),
            groups=[team],
        )
        guardianships.create_guardianship(
            session=session, organisation=organisation, child=child, user=guardian
        )
        for use in uses:
            consent.record_decision(
                session=session,
                organisation=organisation,
                child=child,
                use=use,
                granted=use.code not in refused.get(person, set()),
                method="online",
                now=utcnow(),
                guardian=guardian,
            )
        enrollment.enroll_portrait(
            session=session,
            organisation=organisation,
            child=child,
            path=FACES / portrait,
            user=None,
            now=utcnow(),
        )
        assert child.id is not None
        children[person] = child.id
    event = service.create_event(
        session=session,
        organisation=organisation,
        name="Bench tournament",
        event_date=utcnow().date(),
        group_ids=[team.id] if team.id else [],
        user=staff,
    )
    session.commit()
    assert organisation.id is not None and event.id is not None and staff.id is not None
    return Club(organisation.id, event.id, staff.id, children, refused)


def upload(session: Session, club: Club, files: Iterable[tuple[str, bytes]]) -> list[int]:
    """Upload (name, bytes) pairs through the service; the photo ids. The caller commits."""
    organisation = club.organisation(session)
    event = session.get(Event, club.event_id)
    staff = session.get(User, club.staff_id)
    assert event is not None
    ids = []
    for name, data in files:
        result = service.add_upload(
            session=session,
            organisation=organisation,
            event=event,
            source=io.BytesIO(data),
            filename=name,
            user=staff,
        )
        if result.photo is None or result.duplicate:
            raise RuntimeError(f"upload of {name} refused: {result.error or 'duplicate'}")
        assert result.photo.id is not None
        ids.append(result.photo.id)
    return ids


def unfinished(make_session: SessionFactory, photo_ids: Sequence[int]) -> int:
    with make_session() as session:
        return session.exec(
            select(func.count())
            .select_from(Photo)
            .where(col(Photo.id).in_(photo_ids), col(Photo.status).in_(UNFINISHED))
        ).one()


# -- Test photos ----------------------------------------------------------------------------------


def camera_size(image: Image.Image) -> Image.Image:
    """`image` enlarged (or shrunk) to about 12 MP, keeping its content and aspect ratio."""
    factor = math.sqrt(TARGET_PIXELS / (image.width * image.height))
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.LANCZOS)


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (left.width + right.width, max(left.height, right.height)))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width, 0))
    return canvas


def make_photos(labels: dict[str, dict]) -> dict[str, tuple[bytes, int]]:
    """Name → (12-MP JPEG, faces counted by eye): the group photos and the team photo."""
    photos = {}
    for name in ("kit_with_rose.jpg", "obama_and_biden.jpg", "children_8.jpg", "group_14.jpg"):
        with Image.open(FACES / "groups" / name) as original:
            image = original.convert("RGB")
        photos[name] = (jpeg(camera_size(image)), labels[f"groups/{name}"]["faces"])
    with Image.open(FACES / "groups" / "group_14.jpg") as original:
        group = original.convert("RGB")
    # Two rows of a team from further back: the 14-face group twice (mirrored), 5657×2121.
    team = side_by_side(group, ImageOps.mirror(group))
    photos["team_28.jpg"] = (jpeg(camera_size(team)), 2 * labels["groups/group_14.jpg"]["faces"])
    return photos


_copies = itertools.count(1)


def copy_of(data: bytes) -> bytes:
    """The same JPEG with a unique comment: a different file to the upload's duplicate check."""
    tag = f"consentlens bench copy {next(_copies)}".encode()
    at = 2
    if data[2:4] == b"\xff\xe0":  # keep the JFIF segment first
        at = 4 + int.from_bytes(data[4:6], "big")
    return data[:at] + b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag + data[at:]


def pixel_size(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        return f"{image.width}×{image.height}"


# -- Memory ---------------------------------------------------------------------------------------


def megabytes(kilobytes: float) -> str:
    return f"{kilobytes / 1024:.0f} MB"


def sample_children(peaks: dict[int, int]) -> None:
    """Record the peak resident size (VmHWM, kB) of each live child process."""
    for child in multiprocessing.active_children():
        try:
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                assert child.pid is not None
                peaks[child.pid] = max(peaks.get(child.pid, 0), int(line.split()[1]))


def reap_children(timeout: float = 15.0) -> None:
    """Wait until the analysis processes have exited, so getrusage counts them."""
    deadline = time.monotonic() + timeout
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)


# -- End to end through the worker ----------------------------------------------------------------


@dataclass
class Run:
    processes: int
    startup: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)
    team_latency: float = 0.0  # median of TEAM_REPEATS, after the first
    team_first: float = 0.0  # the first team photo (each process meets a new input shape)
    child_peaks: dict[int, int] = field(default_factory=dict)
    failed: int = 0
    stuck: int = 0  # still pending/processing when the bench stopped waiting
    # Analysed photos without every rendering their verdicts serve (should stay 0: gallery-ready).
    not_rendered: int = 0
    event_seconds: float = 0.0
    event_size: int = 0


def commit_uploads(
    make_session: SessionFactory, club: Club, files: list[tuple[str, bytes]]
) -> list[int]:
    """Upload `files` in one transaction: the worker sees them all at once."""
    with make_session() as session:
        ids = upload(session, club, files)
        session.commit()
    return ids


def wait_analysed(
    make_session: SessionFactory, ids: list[int], run: Run, started: float, timeout: float
) -> float:
    """Seconds from `started` until no photo of `ids` is pending or processing any more."""
    while unfinished(make_session, ids):
        sample_children(run.child_peaks)
        if time.perf_counter() - started > timeout:
            run.stuck += unfinished(make_session, ids)
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    with make_session() as session:
        run.failed += session.exec(
            select(func.count())
            .select_from(Photo)
            .where(col(Photo.id).in_(ids), Photo.status == PhotoStatus.FAILED.value)
        ).one()
        run.not_rendered += not_rendered(session, ids)
    return elapsed


def not_rendered(session: Session, ids: list[int]) -> int:
    """How many of the photos lack a rendering their current verdicts serve."""
    photos = list(session.exec(select(Photo).where(col(Photo.id).in_(ids))))
    missing = 0
    for photo in photos:
        organisation = session.get(Organisation, photo.organisation_id)
        assert organisation is not None and photo.id is not None
        (evaluation,) = verdicts.evaluate(
            session=session, organisation=organisation, photos=[photo], now=utcnow()
        )
        names = verdicts.current_derivatives(evaluation=evaluation, organisation=organisation)
        folder = storage.derivative_dir(photo.id)
        missing += any(
            not (folder / name).exists() for name in names if not name.endswith("-hidden")
        )
    session.rollback()
    return missing


def drain(
    make_session: SessionFactory,
    club: Club,
    photo_worker: Worker,
    files: list[tuple[str, bytes]],
    run: Run,
) -> float:
    """Upload `files`, wake the worker, and time until all are analysed."""
    ids = commit_uploads(make_session, club, files)
    started = time.perf_counter()
    photo_worker.wake()
    return wait_analysed(make_session, ids, run, started, timeout=60 + 20 * len(ids))


def end_to_end(
    make_session: SessionFactory,
    club: Club,
    photos: dict[str, tuple[bytes, int]],
    processes: int,
    copies: int,
    event: int = 0,
) -> Run:
    """Throughput of the real photo worker with `processes` analysis processes (and the time of
    an `event` of that many mixed photos, if not 0)."""
    run = Run(processes)
    # One small photo per process, queued before the worker starts: each process is spawned and
    # loads its models on its first photo. That start-up is timed apart from the batches.
    warm = [("warm.jpg", copy_of(photos["kit_with_rose.jpg"][0])) for _ in range(processes)]
    ids = commit_uploads(make_session, club, warm)
    photo_worker = wiring.photo_worker(make_session=make_session, processes=processes)
    started = time.perf_counter()
    photo_worker.start()
    try:
        run.startup = wait_analysed(make_session, ids, run, started, timeout=120)
        for workload, names in workloads(copies).items():
            files = [(name, copy_of(photos[name][0])) for name in names]
            run.rates[workload] = len(files) / drain(make_session, club, photo_worker, files, run)
        latencies = [
            drain(make_session, club, photo_worker, [("team_28.jpg", copy_of(team))], run)
            for team in [photos["team_28.jpg"][0]] * 4
        ]
        run.team_first, run.team_latency = latencies[0], statistics.median(latencies[1:])
        if event:
            files = [(name, copy_of(photos[name][0])) for name in event_photos(event)]
            run.event_size = len(files)
            run.event_seconds = drain(make_session, club, photo_worker, files, run)
    finally:
        photo_worker.stop()
    reap_children()
    return run


def workloads(copies: int) -> dict[str, list[str]]:
    """Batch name → the photos uploaded at once."""
    return {
        "≤5 faces": ["kit_with_rose.jpg", "obama_and_biden.jpg"] * max(1, copies // 2),
        "14 faces": ["group_14.jpg"] * max(2, copies // 2),
        "team, 28": ["team_28.jpg"] * max(2, copies // 4),
    }


def event_photos(count: int) -> list[str]:
    """A club's event: 85% photos with ≤ 5 faces, 10% groups of 14, 5% team photos of 28."""
    return [EVENT_MIX[n % len(EVENT_MIX)] for n in range(count)]


EVENT_MIX = (
    ["kit_with_rose.jpg", "obama_and_biden.jpg"] * 17 + ["group_14.jpg"] * 4 + ["team_28.jpg"] * 2
)


# -- Per stage, in this process ------------------------------------------------------------------


@dataclass
class Stages:
    decode: float
    detect: float
    embed: float
    store: float
    render: float
    # CPU seconds of decode + detect + embed: steadier than wall time when the machine is busy
    # (though sharing cores with other work still inflates it).
    cpu: float
    faces: int
    too_small: int

    @property
    def analysis(self) -> float:
        return self.decode + self.detect + self.embed


def _clipped(box: FaceBox, width: int, height: int) -> tuple[int, int, int, int]:
    left, top = max(0, box.left), max(0, box.top)
    right, bottom = min(width, box.left + box.width), min(height, box.top + box.height)
    return left, top, max(0, right - left), max(0, bottom - top)


def stages_once(
    engine: FaceEngine, make_session: SessionFactory, club: Club, photo_id: int, path: Path
) -> Stages:
    """Time each stage of one photo; the stored photo is analysed again from scratch each time."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    image = engine.load(path)
    pixels = np.ascontiguousarray(np.asarray(image.image))
    t1 = time.perf_counter()
    boxes = engine.locate(pixels)
    t2 = time.perf_counter()
    faces = []
    for box in boxes:
        small = box.side < engine.settings.min_face_px
        faces.append(
            DetectedFace(
                box=image.to_original(_clipped(box, pixels.shape[1], pixels.shape[0])),
                score=box.score,
                embedding=None if small else engine.embed(pixels, box),
                too_small=small,
                analysis_px=box.side,
            )
        )
    t3 = time.perf_counter()
    cpu = time.process_time() - c0
    result = PhotoFaces(original_size=image.original_size, faces=tuple(faces))
    # The store stage without the renderings, which are timed apart (the worker does both).

    with make_session() as session:
        photo = session.get(Photo, photo_id)
        assert photo is not None
        photo.status = PhotoStatus.PROCESSING.value
        session.add(photo)
        session.commit()
    storage.remove_derivatives(photo_id=photo_id)
    with make_session() as session:
        t4 = time.perf_counter()
        processing.store(session=session, photo_id=photo_id, result=result)
        t5 = time.perf_counter()
        photo = session.get(Photo, photo_id)
        assert photo is not None
        organisation = club.organisation(session)
        t6 = time.perf_counter()
        (evaluation,) = verdicts.evaluate(
            session=session, organisation=organisation, photos=[photo], now=utcnow()
        )
        serving.prerender(evaluation=evaluation, organisation=organisation, image=image)
        t7 = time.perf_counter()
    return Stages(
        t1 - t0,
        t2 - t1,
        t3 - t2,
        t5 - t4,
        t7 - t6,
        cpu,
        len(faces),
        sum(face.too_small for face in faces),
    )


def per_stage(
    make_session: SessionFactory,
    club: Club,
    photos: dict[str, tuple[bytes, int]],
    folder: Path,
    rounds: int,
    detector: str,
) -> dict[str, Stages]:
    """The median of each stage over `rounds` runs, per photo."""
    engine = FaceEngine(EngineSettings(detector=detector))  # type: ignore[arg-type]  # a str
    engine.warm_up()
    with make_session() as session:
        ids = upload(session, club, [(name, copy_of(data)) for name, (data, _) in photos.items()])
        session.commit()
    medians = {}
    for photo_id, (name, (data, _)) in zip(ids, photos.items(), strict=True):
        path = folder / name
        path.write_bytes(data)
        runs = [stages_once(engine, make_session, club, photo_id, path) for _ in range(rounds)]
        medians[name] = Stages(
            *(
                statistics.median(getattr(run, stage) for run in runs)
                for stage in ("decode", "detect", "embed", "store", "render", "cpu")
            ),
            runs[0].faces,
            runs[0].too_small,
        )
    return medians


# -- Report ---------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def print_stages(
    stages: dict[str, Stages], photos: dict[str, tuple[bytes, int]], rounds: int
) -> None:
    print(f"== Per stage, one process, median of {rounds} (wall seconds; cpu = CPU seconds)")
    print(
        f"{'photo':20} {'pixels':>10} {'faces':>5} {'count':>5} {'decode':>6} {'detect':>6} "
        f"{'embed':>6} {'store':>6} {'render':>6} {'analyse':>7} {'cpu':>5} {'photo/s':>7}"
    )
    for name, s in stages.items():
        data, counted = photos[name]
        faces = f"{s.faces}" + (f"({s.too_small}s)" if s.too_small else "")
        print(
            f"{name:20} {pixel_size(data):>10} {faces:>5} {counted:5} {s.decode:6.2f} "
            f"{s.detect:6.2f} {s.embed:6.2f} {s.store:6.3f} {s.render:6.2f} "
            f"{s.analysis:7.2f} {s.cpu:5.2f} {1 / (s.analysis + s.store + s.render):7.2f}"
        )
    print(
        "decode = DCT-draft decode to 1600 px; store = match + database write + verdicts "
        "(processing.store); render = thumb + display of every use, from the decoded analysis "
        "image (serving.prerender, in the worker); analyse = decode + detect + embed; "
        "photo/s = 1 / (analyse + store + render); (Ns) = N faces too small to embed\n"
    )


def print_runs(runs: list[Run], copies: int) -> None:
    print(
        "== End to end: uploads committed → all gallery-ready (faces, verdicts and every use's "
        "renderings stored by the photo worker), photos/s"
    )
    print(f"{'processes':>9} {'start-up':>8} " + " ".join(f"{w:>9}" for w in runs[0].rates))
    for run in runs:
        rates = " ".join(f"{rate:9.2f}" for rate in run.rates.values())
        failed = f"  ({run.failed} FAILED)" if run.failed else ""
        failed += f"  ({run.stuck} STUCK, not analysed in time)" if run.stuck else ""
        failed += f"  ({run.not_rendered} NOT RENDERED)" if run.not_rendered else ""
        print(f"{run.processes:9} {run.startup:7.1f}s {rates}{failed}")
    sizes = {name: len(batch) for name, batch in workloads(copies).items()}
    print(
        "start-up = spawning the processes, loading the models and one small photo each; "
        f"batch sizes: {sizes}\n"
    )


def print_memory(runs: list[Run], parent_after_worker: int, parent_after_stages: int) -> None:
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print("== Peak memory (maxrss)")
    print(
        f"parent (worker thread, database, verdicts; models loaded for enrolment): "
        f"{megabytes(parent_after_worker)}; {megabytes(parent_after_stages)} after the "
        "per-stage runs (models and analysis in-process, 12-MP renders)"
    )
    for run in runs:
        peaks = ", ".join(megabytes(kb) for kb in run.child_peaks.values()) or "-"
        total = parent_after_worker + sum(run.child_peaks.values())
        print(
            f"{run.processes} analysis process(es): {peaks}; "
            f"parent + processes ≈ {megabytes(total)}"
        )
    print(f"getrusage(RUSAGE_CHILDREN) maxrss (largest analysis process): {megabytes(children)}\n")


def print_targets(runs: list[Run], stages: dict[str, Stages]) -> None:
    print("== Targets")
    two = next((r for r in runs if r.processes == 2), runs[-1])
    rate = two.rates["≤5 faces"]
    few = [stages[name] for name in ("kit_with_rose.jpg", "obama_and_biden.jpg")]
    idle = 2 / statistics.mean(s.cpu + s.store + s.render for s in few)
    print(
        f"≥ {TARGET_RATE:.0f} photos/s, 12 MP, ≤ 5 faces, {two.processes} processes: "
        f"{rate:.2f} photos/s measured -> {verdict(rate >= TARGET_RATE)}; "
        f"by CPU time, 2 cores: {idle:.2f} photos/s -> {verdict(idle >= TARGET_RATE)}"
    )
    team = stages["team_28.jpg"]
    for run in runs:
        print(
            f"team photo ({team.faces} faces) alone, {run.processes} process(es): "
            f"{run.team_latency:.2f} s upload → gallery-ready (median of 3; the first one "
            f"{run.team_first:.2f} s) "
            f"-> {verdict(run.team_latency <= TARGET_TEAM_SECONDS)} (≤ {TARGET_TEAM_SECONDS:.1f} s)"
        )
    per_face = team.cpu / max(1, team.faces)
    print(
        f"team photo by CPU time (one core, one photo): {team.cpu:.2f} s, "
        f"{per_face:.3f} s per face "
        f"-> {verdict(team.cpu <= TARGET_TEAM_SECONDS)}; a 26-face photo ≈ {per_face * 26:.2f} s; "
        f"+ {team.store:.2f} s to store and {team.render:.2f} s to render it"
    )
    for run in runs:
        if run.event_size:
            print(
                f"event of {run.event_size} photos (in every {len(EVENT_MIX)}: 34 with 2-3 faces, "
                f"4 of 14, 2 team photos of 28), {run.processes} processes: "
                f"{run.event_seconds:.1f} s "
                f"({run.event_size / run.event_seconds:.2f} photos/s) "
                f"-> {verdict(run.event_seconds < TARGET_EVENT_SECONDS)} "
                f"(< {TARGET_EVENT_SECONDS:.0f} s)"
            )


def print_ratios(
    centerface: tuple[list[Run], dict[str, Stages]], hog: tuple[list[Run], dict[str, Stages]]
) -> None:
    """CenterFace against HOG, from the same run."""
    (cf_runs, cf_stages), (hog_runs, hog_stages) = centerface, hog
    print("== CenterFace / HOG, same run")
    detect = sum(s.detect for s in cf_stages.values()) / sum(s.detect for s in hog_stages.values())
    analyse = sum(s.analysis for s in cf_stages.values()) / sum(
        s.analysis for s in hog_stages.values()
    )
    print(f"detection time {detect:.2f}×, decode + detect + embed {analyse:.2f}×")
    for cf, hg in zip(cf_runs, hog_runs, strict=True):
        rates = ", ".join(
            f"{workload} {cf.rates[workload] / hg.rates[workload]:.2f}×" for workload in cf.rates
        )
        print(
            f"{cf.processes} process(es): photos/s {rates}; "
            f"team latency {cf.team_latency / hg.team_latency:.2f}×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2, help="timed runs per photo and stage")
    parser.add_argument(
        "--detector",
        choices=("both", "centerface", "hog"),
        default="both",
        help="measure one detector, or both side by side in one run (the default)",
    )
    parser.add_argument("--copies", type=int, default=8, help="photos in the ≤5-face batch")
    parser.add_argument(
        "--processes", default="1,2", help="analysis processes to compare, comma-separated"
    )
    parser.add_argument(
        "--event",
        type=int,
        default=300,
        help="photos of the mixed event, with the default detector and the most processes "
        "(0: skip)",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    labels = load_labels()
    begun = time.perf_counter()
    try:
        print(f"cores: {os.cpu_count()}  load average at start: {load()}")
        folder = VAR / "photos"
        folder.mkdir()
        photos = make_photos(labels)
        make_session = database()
        # Two of the five refuse the website: their faces are covered there.
        refused = {"biden": {"website"}, "rose_leslie": {"website"}}
        with make_session() as session:
            club = make_club(session, reference_portraits(labels), refused)
        print(f"photos, database and club ready in {time.perf_counter() - begun:.1f} s\n")

        detectors = ("centerface", "hog") if args.detector == "both" else (args.detector,)
        measured: dict[str, tuple[list[Run], dict[str, Stages]]] = {}
        for detector in detectors:
            # The analysis processes are spawned: they read the detector from the environment.
            os.environ["CONSENTLENS_FACE_DETECTOR"] = detector
            print(f"######## detector: {detector}\n")
            runs = [
                end_to_end(
                    make_session,
                    club,
                    photos,
                    n,
                    args.copies,
                    event=args.event if detector == "centerface" and n == max(counts) else 0,
                )
                for n in counts
            ]
            parent_after_worker = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            stages = per_stage(make_session, club, photos, folder, args.rounds, detector)
            parent_after_stages = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            measured[detector] = (runs, stages)
            print_stages(stages, photos, args.rounds)
            print_runs(runs, args.copies)
            print_memory(runs, parent_after_worker, parent_after_stages)
            print_targets(runs, stages)
            print()
        if len(measured) == 2:
            print_ratios(measured["centerface"], measured["hog"])
        print(f"\nload average at end: {load()}; total {time.perf_counter() - begun:.0f} s")
    finally:
        shutil.rmtree(VAR, ignore_errors=True)


if __name__ == "__main__":
    main()
