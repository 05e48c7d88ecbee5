"""The consent policy, table by table: effective consent and photo verdicts."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from consentlens.consent.policy import (
    ConsentRules,
    ConsentState,
    DecisionRecord,
    EffectiveConsent,
    FaceInput,
    FaceStatus,
    Party,
    Reason,
    UnconsentedAction,
    VerdictAction,
    age_on,
    effective_consent,
    photo_verdict,
)
from consentlens.consent.uses import Use
from consentlens.core.dates import years_after
from consentlens.core.i18n import get_translations

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SEASON_END = datetime(2027, 7, 1, 0, 0, tzinfo=BRUSSELS)
RULES = ConsentRules()
ANN, BART = 1, 2
NAMES = {ANN: "Ann Peeters", BART: "Bart Peeters"}

AGE_9 = date(2017, 3, 1)
AGE_11_TURNS_12_TOMORROW = date(2014, 11, 25)
AGE_12_TODAY = date(2014, 11, 24)
AGE_15 = date(2011, 6, 1)
AGE_15_TURNS_16_TOMORROW = date(2010, 11, 25)
AGE_16_TODAY = date(2010, 11, 24)

_ids = itertools.count(1)


def g(
    guardian: int,
    granted: bool,
    days_ago: float = 1,
    *,
    until: datetime = SEASON_END,
    decision_id: int | None = None,
) -> DecisionRecord:
    """A guardian's decision."""
    return DecisionRecord(
        decision_id=decision_id or next(_ids),
        party=Party.GUARDIAN,
        granted=granted,
        decided_at=NOW - timedelta(days=days_ago),
        valid_until=until,
        guardian_id=guardian,
        decided_by=NAMES[guardian],
    )


def c(granted: bool, days_ago: float = 1, *, until: datetime = SEASON_END) -> DecisionRecord:
    """The child's own decision."""
    return DecisionRecord(
        decision_id=next(_ids),
        party=Party.CHILD,
        granted=granted,
        decided_at=NOW - timedelta(days=days_ago),
        valid_until=until,
    )


PAST = NOW - timedelta(days=2)

# (case, birth date, guardians, decisions, rules, expected state, words in the reason)
EFFECTIVE_CASES = [
    ("no decision means not granted", AGE_9, {ANN}, [], RULES, ConsentState.NO_ANSWER, "No answer"),
    ("no guardians and no decision", AGE_9, set(), [], RULES, ConsentState.NO_ANSWER, "No answer"),
    (
        "a single guardian's grant",
        AGE_9,
        {ANN},
        [g(ANN, True)],
        RULES,
        ConsentState.GRANTED,
        "Granted by Ann Peeters on 2026-11-23",
    ),
    (
        "a withdrawal replaces the earlier grant",
        AGE_9,
        {ANN},
        [g(ANN, True, 10), g(ANN, False, 1)],
        RULES,
        ConsentState.REFUSED,
        "Refused by guardian Ann Peeters on 2026-11-23",
    ),
    (
        "a withdrawal made this very moment counts",
        AGE_9,
        {ANN},
        [g(ANN, True, 10), g(ANN, False, 0)],
        RULES,
        ConsentState.REFUSED,
        "Ann Peeters",
    ),
    (
        "a later grant replaces an earlier refusal",
        AGE_9,
        {ANN},
        [g(ANN, False, 10), g(ANN, True, 1)],
        RULES,
        ConsentState.GRANTED,
        "Granted by Ann Peeters",
    ),
    (
        "same moment: the later record wins",
        AGE_9,
        {ANN},
        [g(ANN, True, 1, decision_id=900), g(ANN, False, 1, decision_id=901)],
        RULES,
        ConsentState.REFUSED,
        "Refused",
    ),
    (
        "order of the log does not matter",
        AGE_9,
        {ANN},
        [g(ANN, False, 1, decision_id=911), g(ANN, True, 1, decision_id=910)],
        RULES,
        ConsentState.REFUSED,
        "Refused",
    ),
    (
        "one guardian's refusal wins over the other's grant",
        AGE_9,
        {ANN, BART},
        [g(ANN, True, 3), g(BART, False, 5)],
        RULES,
        ConsentState.REFUSED,
        "Refused by guardian Bart Peeters",
    ),
    (
        "both guardians grant",
        AGE_9,
        {ANN, BART},
        [g(ANN, True, 3), g(BART, True, 2)],
        RULES,
        ConsentState.GRANTED,
        "Granted by Ann Peeters, Bart Peeters on 2026-11-22",
    ),
    (
        "one of two guardians answered: waiting",
        AGE_9,
        {ANN, BART},
        [g(ANN, True)],
        RULES,
        ConsentState.WAITING,
        "waiting for the other guardian",
    ),
    (
        "one guardian is enough when the club says so",
        AGE_9,
        {ANN, BART},
        [g(ANN, True)],
        replace(RULES, require_all_guardians=False),
        ConsentState.GRANTED,
        "Granted by Ann Peeters",
    ),
    (
        "the other guardian's expired grant leaves us waiting",
        AGE_9,
        {ANN, BART},
        [g(ANN, True), g(BART, True, 300, until=PAST)],
        RULES,
        ConsentState.WAITING,
        "waiting",
    ),
    (
        "an expired grant",
        AGE_9,
        {ANN},
        [g(ANN, True, 300, until=PAST)],
        RULES,
        ConsentState.EXPIRED,
        "expired on 2026-11-22",
    ),
    (
        "an expired refusal is still no consent",
        AGE_9,
        {ANN},
        [g(ANN, False, 300, until=PAST)],
        RULES,
        ConsentState.EXPIRED,
        "expired",
    ),
    (
        "a former guardian's grant no longer counts",
        AGE_9,
        {BART},
        [g(ANN, True)],
        RULES,
        ConsentState.NO_ANSWER,
        "No answer",
    ),
    (
        "a decision dated in the future is not yet in force",
        AGE_9,
        {ANN},
        [g(ANN, True, -1)],
        RULES,
        ConsentState.NO_ANSWER,
        "No answer",
    ),
    (
        "under the co-consent age the child's refusal does not count",
        AGE_11_TURNS_12_TOMORROW,
        {ANN},
        [g(ANN, True), c(False)],
        RULES,
        ConsentState.GRANTED,
        "Granted by Ann Peeters",
    ),
    (
        "on the 12th birthday the child's refusal wins",
        AGE_12_TODAY,
        {ANN},
        [g(ANN, True), c(False)],
        RULES,
        ConsentState.REFUSED,
        "Refused by the child on 2026-11-23; from age 12",
    ),
    (
        "the child's own refusal wins over two grants",
        AGE_15,
        {ANN, BART},
        [g(ANN, True), g(BART, True), c(False, 5)],
        RULES,
        ConsentState.REFUSED,
        "child",
    ),
    (
        "a child's withdrawn refusal no longer blocks",
        AGE_15,
        {ANN},
        [g(ANN, True), c(False, 5), c(True, 2)],
        RULES,
        ConsentState.GRANTED,
        "Granted by Ann",
    ),
    (
        "from 12 the child's yes alone is not enough",
        AGE_12_TODAY,
        {ANN},
        [c(True)],
        RULES,
        ConsentState.WAITING,
        "waiting for a guardian",
    ),
    (
        "from 12 the child's yes plus a guardian's",
        AGE_15,
        {ANN},
        [g(ANN, True), c(True)],
        RULES,
        ConsentState.GRANTED,
        "Granted by Ann Peeters",
    ),
    (
        "the child's expired refusal no longer blocks",
        AGE_15,
        {ANN},
        [g(ANN, True), c(False, 300, until=PAST)],
        RULES,
        ConsentState.GRANTED,
        "Ann Peeters",
    ),
    (
        "the day before 16 the guardians still decide",
        AGE_15_TURNS_16_TOMORROW,
        {ANN},
        [g(ANN, True)],
        RULES,
        ConsentState.GRANTED,
        "Granted by Ann Peeters",
    ),
    (
        "on the 16th birthday only the child's answer counts",
        AGE_16_TODAY,
        {ANN},
        [g(ANN, True)],
        RULES,
        ConsentState.WAITING,
        "From age 16 only the child's own answer counts",
    ),
    (
        "from 16 the child's yes replaces the guardians' no",
        AGE_16_TODAY,
        {ANN, BART},
        [g(ANN, False), g(BART, False), c(True)],
        RULES,
        ConsentState.GRANTED,
        "Granted by the child on 2026-11-23; from age 16",
    ),
    (
        "from 16 the child's no replaces the guardians' yes",
        AGE_16_TODAY,
        {ANN},
        [g(ANN, True), c(False)],
        RULES,
        ConsentState.REFUSED,
        "Refused by the child",
    ),
    (
        "from 16 the child's latest answer counts",
        AGE_16_TODAY,
        {ANN},
        [c(True, 10), c(False, 2)],
        RULES,
        ConsentState.REFUSED,
        "Refused by the child",
    ),
    (
        "from 16 an expired answer of the child",
        AGE_16_TODAY,
        {ANN},
        [g(ANN, True), c(True, 300, until=PAST)],
        RULES,
        ConsentState.EXPIRED,
        "child's own answer expired on 2026-11-22",
    ),
    (
        "a club with other ages: sole consent at 14",
        AGE_15,
        {ANN},
        [g(ANN, True)],
        replace(RULES, co_consent_age=10, sole_consent_age=14),
        ConsentState.WAITING,
        "From age 14",
    ),
]


@pytest.mark.parametrize(
    ("birth", "guardians", "decisions", "rules", "state", "reason"),
    [case[1:] for case in EFFECTIVE_CASES],
    ids=[case[0] for case in EFFECTIVE_CASES],
)
def test_effective_consent(birth, guardians, decisions, rules, state, reason):
    result = effective_consent(
        use=Use.WEBSITE,
        birth_date=birth,
        guardian_ids=guardians,
        decisions=decisions,
        rules=rules,
        now=NOW,
    )
    assert result.state is state
    assert reason in str(result.reason)
    assert result.use == Use.WEBSITE
    assert result.granted is (state is ConsentState.GRANTED)
    assert (result.valid_until is not None) is result.granted


def test_granted_consent_lasts_until_the_earliest_grant_expires():
    early = SEASON_END - timedelta(days=30)
    result = effective_consent(
        use=Use.PRINT,
        birth_date=AGE_9,
        guardian_ids={ANN, BART},
        decisions=[g(ANN, True, until=early), g(BART, True)],
        rules=RULES,
        now=NOW,
    )
    assert result.granted and result.valid_until == early


def test_expiry_at_the_end_of_the_last_season_day_in_local_time():
    # The season's last day is 30 June in Brussels: valid until 1 July 00:00 CEST = 22:00 UTC.
    decisions = [g(ANN, True)]
    just_before = datetime(2027, 6, 30, 21, 59, 59, tzinfo=UTC)
    at_midnight = datetime(2027, 6, 30, 22, 0, 0, tzinfo=UTC)
    kwargs = {
        "use": Use.WEBSITE,
        "birth_date": AGE_9,
        "guardian_ids": {ANN},
        "decisions": decisions,
        "rules": RULES,
    }
    assert effective_consent(now=just_before, **kwargs).state is ConsentState.GRANTED
    expired = effective_consent(now=at_midnight, **kwargs)
    assert expired.state is ConsentState.EXPIRED
    assert "2027-07-01" in str(expired.reason)


def test_the_birthday_is_the_local_date_of_the_organisation():
    # 23:30 UTC on 24 November is already 25 November in Brussels: the child turned 12 there.
    late_evening = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    decisions = [
        replace(g(ANN, True), decided_at=late_evening - timedelta(days=3)),
        replace(c(False), decided_at=late_evening - timedelta(hours=1)),
    ]
    kwargs = {
        "use": Use.PRESS,
        "birth_date": AGE_11_TURNS_12_TOMORROW,
        "guardian_ids": {ANN},
        "decisions": decisions,
        "now": late_evening,
    }
    in_brussels = effective_consent(rules=RULES, **kwargs)
    in_utc = effective_consent(rules=replace(RULES, timezone="UTC"), **kwargs)
    assert in_brussels.state is ConsentState.REFUSED
    assert in_utc.state is ConsentState.GRANTED


def test_dates_in_reasons_are_local_dates():
    # 23:30 UTC on 23 November is 00:30 on 24 November in Brussels.
    decided = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    result = effective_consent(
        use=Use.WEBSITE,
        birth_date=AGE_9,
        guardian_ids={ANN},
        decisions=[replace(g(ANN, True), decided_at=decided)],
        rules=RULES,
        now=NOW,
    )
    assert "on 2026-11-24" in str(result.reason)


@pytest.mark.parametrize("bad", ["now", "decided_at", "valid_until"])
def test_naive_datetimes_are_refused(bad):
    naive = datetime(2026, 11, 24, 12, 0)
    record = g(ANN, True)
    now = NOW
    if bad == "now":
        now = naive
    else:
        record = replace(record, **{bad: naive})
    with pytest.raises(ValueError, match="timezone-aware"):
        effective_consent(
            use=Use.WEBSITE,
            birth_date=AGE_9,
            guardian_ids={ANN},
            decisions=[record],
            rules=RULES,
            now=now,
        )


AGE_CASES = [
    (date(2014, 11, 24), date(2026, 11, 24), 12),
    (date(2014, 11, 25), date(2026, 11, 24), 11),
    (date(2014, 12, 31), date(2026, 1, 1), 11),
    (date(2014, 1, 1), date(2026, 12, 31), 12),
    # Leap-day births: a year older on 28 February in common years, on 29 February in leap years.
    (date(2012, 2, 29), date(2026, 2, 27), 13),
    (date(2012, 2, 29), date(2026, 2, 28), 14),
    (date(2012, 2, 29), date(2028, 2, 28), 15),
    (date(2012, 2, 29), date(2028, 2, 29), 16),
    (date(2000, 2, 29), date(2100, 2, 28), 100),
]


@pytest.mark.parametrize(("birth", "day", "age"), AGE_CASES)
def test_age_on(birth, day, age):
    assert age_on(birth_date=birth, day=day) == age


# --- the photo verdict ---------------------------------------------------------------------


def consent(state: ConsentState, use: str = Use.WEBSITE) -> EffectiveConsent:
    return EffectiveConsent(
        use, state, Reason("test"), SEASON_END if state is ConsentState.GRANTED else None
    )


def face(
    face_id: int, status: FaceStatus, state: ConsentState | None = None, use: str = Use.WEBSITE
) -> FaceInput:
    return FaceInput(
        face_id, status, f"Person {face_id}", consent(state, use) if state is not None else None
    )


OK = ConsentState.GRANTED
ID = FaceStatus.IDENTIFIED
VERDICT_CASES = [
    ("no faces: nothing to protect", [], UnconsentedAction.BLUR, VerdictAction.SHOW, ()),
    (
        "everyone consented",
        [face(1, ID, OK), face(2, ID, OK)],
        UnconsentedAction.BLUR,
        VerdictAction.SHOW,
        (),
    ),
    (
        "an unknown face is blurred",
        [face(1, ID, OK), face(2, FaceStatus.UNKNOWN)],
        UnconsentedAction.BLUR,
        VerdictAction.BLUR,
        (2,),
    ),
    (
        "an unknown face hides the photo where the use hides",
        [face(1, ID, OK), face(2, FaceStatus.UNKNOWN)],
        UnconsentedAction.HIDE,
        VerdictAction.HIDE,
        (),
    ),
    (
        "uncertain is not consented",
        [face(1, FaceStatus.UNCERTAIN)],
        UnconsentedAction.BLUR,
        VerdictAction.BLUR,
        (1,),
    ),
    (
        "too small is not consented",
        [face(1, FaceStatus.TOO_SMALL)],
        UnconsentedAction.BLUR,
        VerdictAction.BLUR,
        (1,),
    ),
    (
        "pending review is not consented",
        [face(1, FaceStatus.PENDING_REVIEW)],
        UnconsentedAction.BLUR,
        VerdictAction.BLUR,
        (1,),
    ),
    (
        "identified without any consent record",
        [face(1, ID)],
        UnconsentedAction.BLUR,
        VerdictAction.BLUR,
        (1,),
    ),
    (
        "a consent for another use proves nothing here",
        [face(1, ID, OK, use=Use.INTERNAL_GALLERY)],
        UnconsentedAction.BLUR,
        VerdictAction.BLUR,
        (1,),
    ),
    (
        "refused, waiting and expired are blurred",
        [
            face(1, ID, ConsentState.REFUSED),
            face(2, ID, OK),
            face(3, ID, ConsentState.WAITING),
            face(4, ID, ConsentState.EXPIRED),
            face(5, ID, ConsentState.NO_ANSWER),
        ],
        UnconsentedAction.BLUR,
        VerdictAction.BLUR,
        (1, 3, 4, 5),
    ),
]


@pytest.mark.parametrize(
    ("faces", "unconsented", "action", "blurred"),
    [case[1:] for case in VERDICT_CASES],
    ids=[case[0] for case in VERDICT_CASES],
)
def test_photo_verdict(faces, unconsented, action, blurred):
    verdict = photo_verdict(use=Use.WEBSITE, faces=faces, unconsented=unconsented, analysed=True)
    assert verdict.action is action
    assert verdict.faces_to_blur == blurred
    assert verdict.use == Use.WEBSITE
    assert str(verdict.reason)
    assert len(verdict.faces) == len(faces)


@pytest.mark.parametrize(
    ("status", "state"), list(itertools.product(FaceStatus, [*ConsentState, None]))
)
def test_a_face_is_visible_only_when_identified_and_consented(status, state):
    verdict = photo_verdict(
        use=Use.WEBSITE,
        faces=[face(7, status, state)],
        unconsented=UnconsentedAction.BLUR,
        analysed=True,
    )
    visible = status is FaceStatus.IDENTIFIED and state is ConsentState.GRANTED
    assert verdict.faces[0].visible is visible
    assert verdict.action is (VerdictAction.SHOW if visible else VerdictAction.BLUR)


def test_a_photo_not_yet_analysed_is_hidden():
    verdict = photo_verdict(
        use=Use.WEBSITE, faces=[face(1, ID, OK)], unconsented=UnconsentedAction.BLUR, analysed=False
    )
    assert verdict.action is VerdictAction.HIDE
    assert "not been analysed" in str(verdict.reason)


def test_duplicate_face_ids_are_a_programming_error():
    with pytest.raises(ValueError, match="unique"):
        photo_verdict(
            use=Use.WEBSITE,
            faces=[face(1, ID, OK), face(1, FaceStatus.UNKNOWN)],
            unconsented=UnconsentedAction.BLUR,
            analysed=True,
        )


def test_reasons_translate():
    result = effective_consent(
        use=Use.WEBSITE,
        birth_date=AGE_9,
        guardian_ids={ANN},
        decisions=[g(ANN, False)],
        rules=RULES,
        now=NOW,
    )
    dutch = result.reason.text(get_translations("nl").gettext)
    french = result.reason.text(get_translations("fr").gettext)
    assert dutch == "Geweigerd door ouder Ann Peeters op 2026-11-23."
    assert french == "Refusé par le parent Ann Peeters le 2026-11-23."


@pytest.mark.parametrize(
    ("birth", "years", "expected"),
    [
        (date(2014, 3, 9), 12, date(2026, 3, 9)),
        (date(2012, 2, 29), 12, date(2024, 2, 29)),
        (date(2012, 2, 29), 13, date(2025, 2, 28)),
        (date(2026, 11, 24), -110, date(1916, 11, 24)),
        (date(2028, 2, 29), -1, date(2027, 2, 28)),
    ],
)
def test_years_after_is_the_day_age_on_counts_a_birthday(birth, years, expected):
    assert years_after(day=birth, years=years) == expected
    if years > 0:
        assert age_on(birth_date=birth, day=expected) == years
        assert age_on(birth_date=birth, day=expected - timedelta(days=1)) == years - 1


@pytest.mark.parametrize("state", [s for s in ConsentState if s is not ConsentState.GRANTED])
def test_a_covered_face_says_why_in_words_in_every_language(state):
    verdict = photo_verdict(
        use=Use.WEBSITE,
        faces=[face(1, ID, state)],
        unconsented=UnconsentedAction.BLUR,
        analysed=True,
    )
    (covered,) = verdict.faces
    assert not covered.visible and covered.reason.params == {"name": "Person 1"}
    for locale in ("en", "nl", "fr"):
        text = (
            get_translations(locale).gettext(covered.reason.message).format(**covered.reason.params)
        )
        # The state's code (e.g. "refused") never shows: each state has its own sentence.
        assert text.startswith("Person 1") and f"({state.value})" not in text, (locale, text)
    messages = {
        photo_verdict(
            use=Use.WEBSITE,
            faces=[face(1, ID, s)],
            unconsented=UnconsentedAction.BLUR,
            analysed=True,
        )
        .faces[0]
        .reason.message
        for s in ConsentState
        if s is not ConsentState.GRANTED
    }
    assert len(messages) == len(ConsentState) - 1
