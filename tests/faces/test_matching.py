"""The identification rule on hand-made vectors: every branch, its boundaries, ties, references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from consentlens.consent.policy import FaceStatus
from consentlens.faces.matching import MatchingRules, Reference, ReferenceSet, match_face

DIM = 8
QUERY = (0.0,) * DIM
# Distances and thresholds below are sums of powers of two: exact in binary floating point, so a
# distance "equal to" a threshold really is equal and the boundary tests mean what they say.
DYADIC = MatchingRules(strict=0.5, loose=0.75, margin=0.25)


def point(distance: float, axis: int) -> tuple[float, ...]:
    """A vector at exactly `distance` from the origin (the query)."""
    values = [0.0] * DIM
    values[axis] = distance
    return tuple(values)


def gallery(*refs: tuple[str, float]) -> list[Reference]:
    """References at the given distances from the query, each on its own axis."""
    return [Reference(name, point(distance, axis)) for axis, (name, distance) in enumerate(refs)]


CASES = [
    # id, references (person, distance), rules, status, person, distance, runner-up
    (
        "clear match",
        [("ann", 0.25), ("bob", 0.5)],
        None,
        FaceStatus.IDENTIFIED,
        "ann",
        0.25,
        0.5,
    ),
    ("only one person enrolled", [("ann", 0.25)], None, FaceStatus.IDENTIFIED, "ann", 0.25, None),
    (
        "margin too small",
        [("ann", 0.25), ("bob", 0.3125)],
        None,
        FaceStatus.UNCERTAIN,
        "ann",
        0.25,
        0.3125,
    ),
    (
        "between strict and loose",
        [("ann", 0.5), ("bob", 1.0)],
        None,
        FaceStatus.UNCERTAIN,
        "ann",
        0.5,
        1.0,
    ),
    ("beyond loose", [("ann", 0.625), ("bob", 1.0)], None, FaceStatus.UNKNOWN, None, 0.625, 1.0),
    (
        "beyond loose with a failing margin is still unknown",
        [("ann", 0.625), ("bob", 0.640625)],
        None,
        FaceStatus.UNKNOWN,
        None,
        0.625,
        0.640625,
    ),
    (
        "tie goes to uncertain, suggesting the first enrolled",
        [("ann", 0.25), ("bob", 0.25)],
        None,
        FaceStatus.UNCERTAIN,
        "ann",
        0.25,
        0.25,
    ),
    (
        "tie in the other enrolment order",
        [("bob", 0.25), ("ann", 0.25)],
        None,
        FaceStatus.UNCERTAIN,
        "bob",
        0.25,
        0.25,
    ),
    (
        "nearest of several references counts",
        [("ann", 0.75), ("bob", 0.5), ("ann", 0.25)],
        None,
        FaceStatus.IDENTIFIED,
        "ann",
        0.25,
        0.5,
    ),
    (
        "the person's own second reference is not a rival",
        [("ann", 0.25), ("ann", 0.28125), ("bob", 1.0)],
        None,
        FaceStatus.IDENTIFIED,
        "ann",
        0.25,
        1.0,
    ),
    (
        "another person's far reference does not rescue a near rival",
        [("ann", 0.25), ("bob", 1.0), ("bob", 0.28125)],
        None,
        FaceStatus.UNCERTAIN,
        "ann",
        0.25,
        0.28125,
    ),
    (
        "exactly strict with exactly the margin",
        [("ann", 0.5), ("bob", 0.75)],
        DYADIC,
        FaceStatus.IDENTIFIED,
        "ann",
        0.5,
        0.75,
    ),
    (
        "exactly strict, margin short",
        [("ann", 0.5), ("bob", 0.625)],
        DYADIC,
        FaceStatus.UNCERTAIN,
        "ann",
        0.5,
        0.625,
    ),
    ("above strict", [("ann", 0.5078125)], DYADIC, FaceStatus.UNCERTAIN, "ann", 0.5078125, None),
    ("exactly loose", [("ann", 0.75)], DYADIC, FaceStatus.UNCERTAIN, "ann", 0.75, None),
    ("above loose", [("ann", 0.7578125)], DYADIC, FaceStatus.UNKNOWN, None, 0.7578125, None),
    (
        "zero margin accepts a tie below strict",
        [("ann", 0.25), ("bob", 0.25)],
        MatchingRules(strict=0.5, loose=0.75, margin=0.0),
        FaceStatus.IDENTIFIED,
        "ann",
        0.25,
        0.25,
    ),
    # FACES.md: the nearest stranger seen was 0.585 and a same person reached 0.61. Under the
    # defaults neither is identified (0.6 would have identified the stranger).
    ("measured nearest stranger", [("ann", 0.585)], None, FaceStatus.UNKNOWN, None, 0.585, None),
    ("measured same-person max", [("ann", 0.61)], None, FaceStatus.UNKNOWN, None, 0.61, None),
]


@pytest.mark.parametrize(
    ("refs", "rules", "status", "person", "distance", "runner_up"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_match_face(refs, rules, status, person, distance, runner_up):
    result = match_face(embedding=QUERY, references=gallery(*refs), rules=rules)

    assert result.status is status
    assert result.person_id == person
    assert result.distance == pytest.approx(distance, abs=1e-12)
    if runner_up is None:
        assert result.runner_up_distance is None
    else:
        assert result.runner_up_distance == pytest.approx(runner_up, abs=1e-12)
    assert result.reason


def test_status_is_the_policy_face_status():
    result = match_face(embedding=QUERY, references=gallery(("ann", 0.25)))

    assert isinstance(result.status, FaceStatus)


@pytest.mark.parametrize("refs", [[], [("ann", 0.25)]], ids=["nobody enrolled", "enrolled"])
def test_too_small_face_has_no_embedding(refs):
    result = match_face(embedding=None, references=gallery(*refs))

    assert result.status is FaceStatus.TOO_SMALL
    assert (result.person_id, result.distance, result.runner_up_distance) == (None, None, None)
    assert "small" in result.reason


def test_no_references_is_unknown():
    result = match_face(embedding=QUERY, references=[])

    assert result.status is FaceStatus.UNKNOWN
    assert (result.person_id, result.distance, result.runner_up_distance) == (None, None, None)
    assert result.reason == "No one is enrolled."


def test_reasons_name_the_deciding_numbers():
    identified = match_face(embedding=QUERY, references=gallery(("ann", 0.25), ("bob", 0.5)))
    margin = match_face(embedding=QUERY, references=gallery(("ann", 0.25), ("bob", 0.3125)))
    loose = match_face(embedding=QUERY, references=gallery(("ann", 0.5)))
    unknown = match_face(embedding=QUERY, references=gallery(("ann", 0.625)))

    assert "0.250" in identified.reason and "0.45" in identified.reason
    assert "0.062" in margin.reason and "0.08" in margin.reason
    assert "0.500" in loose.reason and "0.58" in loose.reason
    assert "0.625" in unknown.reason and "0.58" in unknown.reason


def test_defaults_are_the_documented_thresholds():
    assert MatchingRules() == MatchingRules(strict=0.45, loose=0.58, margin=0.08)


def test_prepared_reference_set_matches_like_the_plain_list():
    refs = gallery(("ann", 0.25), ("bob", 0.5), ("ann", 0.75), ("cem", 0.3125))
    prepared = ReferenceSet.build(refs)

    assert prepared.person_ids == ("ann", "bob", "cem")
    assert len(prepared) == 3
    for query in (QUERY, point(0.25, 0), point(0.5, 3)):
        assert match_face(embedding=query, references=prepared) == match_face(
            embedding=query, references=refs
        )


def test_realistic_vectors_and_integer_ids():
    rng = np.random.default_rng(7)
    ann, bob = rng.normal(size=128), rng.normal(size=128)
    ann, bob = ann / np.linalg.norm(ann), bob / np.linalg.norm(bob)
    nudge = rng.normal(size=128)
    face = ann + 0.3 * nudge / np.linalg.norm(nudge)

    result = match_face(embedding=face, references=[Reference(11, ann), Reference(12, bob)])

    assert result.status is FaceStatus.IDENTIFIED
    assert result.person_id == 11
    assert result.distance == pytest.approx(0.3)
    assert result.runner_up_distance == pytest.approx(float(np.linalg.norm(face - bob)))


@pytest.mark.parametrize(
    ("embedding", "refs"),
    [
        ((0.0, 0.0), gallery(("ann", 0.25))),
        ((math.nan,) * DIM, gallery(("ann", 0.25))),
        ((math.inf,) * DIM, []),
        ((), gallery(("ann", 0.25))),
        (QUERY, [Reference("ann", point(0.25, 0)), Reference("bob", (0.0, 0.5))]),
    ],
    ids=["wrong length", "nan", "inf without references", "empty", "references differ in length"],
)
def test_malformed_vectors_are_rejected(embedding, refs):
    with pytest.raises(ValueError):
        match_face(embedding=embedding, references=refs)


@pytest.mark.parametrize(
    "values",
    [
        {"strict": 0.6, "loose": 0.5},
        {"strict": 0.0},
        {"margin": -0.01},
    ],
)
def test_inconsistent_rules_are_rejected(values):
    with pytest.raises(ValueError):
        MatchingRules(**values)
