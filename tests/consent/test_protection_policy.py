"""The pure rule for protected children: which photos are hidden whole, and the verdict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consentlens.consent.policy import (
    ConsentState,
    EffectiveConsent,
    FaceInput,
    FaceStatus,
    Reason,
    UnconsentedAction,
    VerdictAction,
    photo_verdict,
)
from consentlens.consent.protection import (
    FACE_REASON,
    REASONS,
    Protection,
    photo_protection,
    protected_verdict,
)

# Child 1 is protected and plays in group 10; child 2 is protected and in no group.
PROTECTED = {1: frozenset({10}), 2: frozenset()}


@pytest.mark.parametrize(
    ("named", "unidentified", "event_groups", "protected", "expected"),
    [
        # Named is enough, wherever the photo was taken and whatever the consent.
        ([1], 0, [], PROTECTED, Protection.IDENTIFIED),
        ([3, 1], 2, [99], PROTECTED, Protection.IDENTIFIED),
        ([2], 0, [10], PROTECTED, Protection.IDENTIFIED),
        # A face naming nobody at an event of a protected child's group may be them.
        ([], 1, [10], PROTECTED, Protection.POSSIBLE),
        ([3], 1, [10, 11], PROTECTED, Protection.POSSIBLE),
        # ... but not at another group's event, nor when every face names someone else.
        ([], 1, [11], PROTECTED, Protection.NONE),
        ([3], 0, [10], PROTECTED, Protection.NONE),
        # No face at all is no one.
        ([], 0, [10], PROTECTED, Protection.NONE),
        # An event without groups, a protected child without groups: no "may be".
        ([], 3, [], PROTECTED, Protection.NONE),
        ([], 1, [10], {2: frozenset()}, Protection.NONE),
        # Nobody protected: the rule never applies.
        ([1], 1, [10], {}, Protection.NONE),
    ],
)
def test_which_photos_a_protected_child_hides(
    named, unidentified, event_groups, protected, expected
):
    assert (
        photo_protection(
            named_child_ids=named,
            unidentified_faces=unidentified,
            event_group_ids=event_groups,
            protected_groups=protected,
        )
        is expected
    )


def _shown() -> FaceInput:
    until = datetime(2030, 1, 1, tzinfo=UTC)
    consent = EffectiveConsent("website", ConsentState.GRANTED, Reason("ok"), until)
    return FaceInput(1, FaceStatus.IDENTIFIED, "Ann", consent)


@pytest.mark.parametrize(
    "unconsented", [UnconsentedAction.BLUR, UnconsentedAction.HIDE], ids=["blur", "hide"]
)
@pytest.mark.parametrize(
    "faces",
    [[_shown()], [_shown(), FaceInput(2, FaceStatus.UNKNOWN)], []],
    ids=["consented", "one-blurred", "no-faces"],
)
@pytest.mark.parametrize("protection", [Protection.IDENTIFIED, Protection.POSSIBLE])
def test_a_protected_photo_is_hidden_whole_in_every_use(unconsented, faces, protection):
    verdict = photo_verdict(use="website", faces=faces, unconsented=unconsented, analysed=True)
    hidden = protected_verdict(verdict=verdict, protection=protection)
    assert hidden.action is VerdictAction.HIDE
    assert hidden.faces_to_blur == ()
    assert hidden.reason.message == REASONS[protection]
    assert [(f.face_id, f.visible, f.reason.message) for f in hidden.faces] == [
        (f.face_id, False, FACE_REASON) for f in faces
    ]
    assert hidden.use == "website"


def test_no_protection_leaves_the_verdict_as_it_was():
    verdict = photo_verdict(
        use="website", faces=[_shown()], unconsented=UnconsentedAction.BLUR, analysed=True
    )
    assert protected_verdict(verdict=verdict, protection=Protection.NONE) is verdict
    assert verdict.action is VerdictAction.SHOW


def test_the_reasons_say_why_in_words():
    assert REASONS[Protection.IDENTIFIED] == "Hidden: a protected child is in this photo."
    assert "may be in this photo" in REASONS[Protection.POSSIBLE]
    assert "unidentified face" in REASONS[Protection.POSSIBLE]
