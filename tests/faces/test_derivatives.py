"""Served derivatives: from the verdict, heads covered beyond detection, no EXIF."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from consentlens.consent.policy import (
    ConsentState,
    EffectiveConsent,
    FaceInput,
    FaceStatus,
    PhotoVerdict,
    Reason,
    UnconsentedAction,
    VerdictAction,
    photo_verdict,
)
from consentlens.faces.derivatives import (
    HeadMargins,
    RenderRefused,
    head_region,
    render,
    render_sizes,
    scaled_box,
)
from consentlens.faces.detector import FaceEngine
from consentlens.faces.matching import Reference, ReferenceSet, match_face
from tests.factories.photos import FACES


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    if not (FACES / "labels.json").is_file():
        pytest.fail(f"the shared face photos are missing: expected {FACES}/labels.json")
    engine = FaceEngine()
    engine.warm_up()
    return engine


def upright(path) -> Image.Image:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def verdict_for(faces: dict[int, bool]) -> PhotoVerdict:
    """A real policy verdict for the website: True = identified and consented, False = unknown."""
    granted = EffectiveConsent("website", ConsentState.GRANTED, Reason("ok"))
    inputs = [
        FaceInput(face_id, FaceStatus.IDENTIFIED, "P", granted)
        if ok
        else FaceInput(face_id, FaceStatus.UNKNOWN)
        for face_id, ok in faces.items()
    ]
    return photo_verdict(
        use="website", faces=inputs, unconsented=UnconsentedAction.BLUR, analysed=True
    )


def test_the_cover_reaches_past_the_detector_box_and_stays_inside_the_photo():
    margins = HeadMargins(side=0.6, above=1.1, below=0.6)
    # A 50 × 60 box: 30 px more on each side, 66 above, 36 below (and the last pixel included).
    assert head_region(box=(100, 100, 50, 60), image_size=(1000, 800), margins=margins) == (
        70,
        34,
        111,
        163,
    )
    assert head_region(box=(0, 5, 40, 40), image_size=(60, 60), margins=margins) == (0, 0, 60, 60)


def test_a_hidden_photo_is_not_rendered():
    image = Image.new("RGB", (64, 48), "white")
    hidden = PhotoVerdict("press", VerdictAction.HIDE, (), Reason("hidden"))
    assert render(original=image, verdict=hidden, boxes={}, size="thumb") is None


def test_a_face_to_cover_without_a_position_is_refused():
    image = Image.new("RGB", (64, 48), "white")
    verdict = PhotoVerdict("website", VerdictAction.BLUR, (7,), Reason("blur"))
    with pytest.raises(RenderRefused):
        render(original=image, verdict=verdict, boxes={}, size="thumb")


def test_covered_faces_are_found_by_no_detector_and_the_consented_one_stays(engine):
    path = FACES / "groups" / "kit_with_rose.jpg"
    original = upright(path)
    found = engine.analyse(path).faces
    assert len(found) == 2
    portraits = {"kit_harington": "kit_harington_1.jpeg", "rose_leslie": "rose_leslie_1.jpg"}
    references = ReferenceSet.build(
        Reference(person, face.embedding)
        for person, name in portraits.items()
        for face in engine.analyse(FACES / "portraits" / name).faces
    )
    who = {
        i: match_face(embedding=face.embedding, references=references).person_id
        for i, face in enumerate(found)
    }
    boxes = {i: face.box for i, face in enumerate(found)}

    # Nobody consented: both heads covered, and the detector finds nothing in what is served.
    none_ok = render(
        original=original, verdict=verdict_for({0: False, 1: False}), boxes=boxes, size="display"
    )
    assert engine.analyse(io.BytesIO(none_ok)).faces == ()

    # Only rose consented: the one face still found is rose, never kit.
    rose = next(i for i, person in who.items() if person == "rose_leslie")
    kit = 1 - rose
    one_ok = render(
        original=original,
        verdict=verdict_for({rose: True, kit: False}),
        boxes=boxes,
        size="display",
    )
    remaining = engine.analyse(io.BytesIO(one_ok)).faces
    assert len(remaining) == 1
    assert (
        match_face(embedding=remaining[0].embedding, references=references).person_id
        == "rose_leslie"
    )


def test_no_pixel_of_a_covered_head_depends_on_the_original(engine):
    path = FACES / "groups" / "obama_and_biden.jpg"
    original = upright(path)
    faces = engine.analyse(path).faces
    boxes = {i: face.box for i, face in enumerate(faces)}
    verdict = verdict_for(dict.fromkeys(boxes, False))
    covered = Image.open(
        io.BytesIO(render(original=original, verdict=verdict, boxes=boxes, size="display"))
    )
    scale = covered.width / original.width
    x, y, w, h = faces[0].box
    crop = (int(x * scale), int(y * scale), int((x + w) * scale), int((y + h) * scale))
    before = np.asarray(original.resize(covered.size).crop(crop).convert("L"), dtype=float).ravel()
    after = np.asarray(covered.crop(crop).convert("L"), dtype=float).ravel()
    assert abs(np.corrcoef(before, after)[0, 1]) < 0.1


def test_derivatives_carry_no_metadata_and_are_upright():
    rotated = FACES / "portraits" / "obama_2_exif_rotated.jpg"
    with Image.open(rotated) as raw:
        assert raw.getexif().get(0x0112) == 6
    original = upright(rotated)
    shown = PhotoVerdict("internal_gallery", VerdictAction.SHOW, (), Reason("ok"))
    data = render(original=original, verdict=shown, boxes={}, size="thumb")
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert "icc_profile" not in image.info and "exif" not in image.info
    assert max(image.size) == 400
    assert (image.width < image.height) == (original.width < original.height)


def test_gps_in_the_upload_never_reaches_the_derivative(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (50.0, 51.0, 0.0)  # GPSLatitude
    source = tmp_path / "gps.jpg"
    Image.new("RGB", (800, 600), "green").save(source, exif=exif)
    with Image.open(source) as check:
        assert check.getexif().get_ifd(0x8825)
        original = check.convert("RGB")
        original.info.update(check.info)
    shown = PhotoVerdict("website", VerdictAction.SHOW, (), Reason("ok"))
    data = render(original=original, verdict=shown, boxes={}, size="display")
    assert b"PhoneMaker" not in data and b"Exif" not in data


def test_renderings_from_the_analysis_image_cover_what_the_original_would(engine, tmp_path):
    """The worker renders from the image it decoded for analysis (1600 px, not 12 MP): the same
    heads are covered, and nothing a detector can find is left of them at any size."""
    big = tmp_path / "big.jpg"
    upright(FACES / "groups" / "group_14.jpg").resize((4000, 3000), Image.Resampling.BICUBIC).save(
        big, quality=90
    )
    analysed = engine.analyse(big)
    assert analysed.image is not None and max(analysed.image.size) == 1600
    boxes = {i: face.box for i, face in enumerate(analysed.faces)}
    assert len(boxes) >= 12
    rendered = render_sizes(
        source=analysed.image.image,
        original_size=analysed.original_size,
        verdict=verdict_for(dict.fromkeys(boxes, False)),
        boxes=boxes,
        sizes=("thumb", "display"),
    )
    assert rendered is not None
    display = Image.open(io.BytesIO(rendered["display"]))
    thumb = Image.open(io.BytesIO(rendered["thumb"]))
    assert display.size == (1600, 1200) and thumb.size == (400, 300)
    assert engine.analyse(io.BytesIO(rendered["display"])).faces == ()
    # Every pixel of every detector box lies under a cover in the display rendering.
    original = upright(big)
    for box in boxes.values():
        x, y, w, h = scaled_box(box, original_size=original.size, size=display.size)
        before = np.asarray(original.resize(display.size).crop((x, y, x + w, y + h)).convert("L"))
        after = np.asarray(display.crop((x, y, x + w, y + h)).convert("L"))
        assert abs(np.corrcoef(before.ravel(), after.ravel())[0, 1]) < 0.2


@pytest.mark.parametrize("seed", range(20))
def test_a_box_scaled_down_still_holds_every_pixel_it_touched(seed):
    rng = np.random.default_rng(seed)
    original = (int(rng.integers(500, 5000)), int(rng.integers(500, 5000)))
    size = (int(rng.integers(50, original[0])), int(rng.integers(50, original[1])))
    x, y = int(rng.integers(0, original[0] - 20)), int(rng.integers(0, original[1] - 20))
    w, h = int(rng.integers(1, original[0] - x)), int(rng.integers(1, original[1] - y))
    left, top, width, height = scaled_box((x, y, w, h), original_size=original, size=size)
    sx, sy = size[0] / original[0], size[1] / original[1]
    assert left <= x * sx and top <= y * sy
    assert left + width >= (x + w) * sx and top + height >= (y + h) * sy
    assert scaled_box((x, y, w, h), original_size=original, size=original) == (x, y, w, h)
