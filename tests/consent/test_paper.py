"""Paper forms: the fields are checked without I/O; recording is all or nothing, scan included."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.consent import paper
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.consent.uses import Use
from consentlens.core.config import get_settings
from consentlens.core.tables import utcnow
from tests import factories
from tests.images import png_bytes

TODAY = date(2025, 3, 10)


class _Use:
    """Just the code: checking a form needs nothing else of a use."""

    def __init__(self, code):
        self.code = code


USES = [_Use(Use.WEBSITE), _Use(Use.PRESS), _Use(Use.PRINT)]


def read(values, guardians=(), scan=b"scan", uses=None):
    return paper.read_paper_form(
        values=values,
        uses=uses if uses is not None else USES,
        guardians=list(guardians),
        birth_date=date(2015, 1, 1),
        today=TODAY,
        scan=scan,
    )


@pytest.mark.parametrize(
    ("values", "scan", "messages"),
    [
        ({}, b"", ["Choose who signed", "Fill in the date", "at least one use", "Add the scan"]),
        ({"signer": "child", "signed_on": "2025-03-11", "use-website": "yes"}, b"x", ["future"]),
        ({"signer": "child", "signed_on": "2014-12-31", "use-press": "no"}, b"x", ["birth"]),
        ({"signer": "7", "signed_on": "2025-03-10", "use-press": "no"}, b"x", ["who signed"]),
    ],
)
def test_every_problem_of_a_form_is_named_at_once(values, scan, messages):
    with pytest.raises(paper.PaperFormError) as refused:
        read(values, scan=scan)
    assert len(refused.value.messages) == len(messages)
    for message, text in zip(messages, refused.value.messages, strict=True):
        assert message in text


def test_a_form_keeps_only_the_ticked_uses_in_their_order():
    form = read(
        {"signer": "child", "signed_on": "2025-03-01", "use-print": "no", "use-website": "yes"}
    )
    assert form.guardian is None and form.signed_on == date(2025, 3, 1)
    assert list(form.answers.items()) == [(Use.WEBSITE, True), (Use.PRINT, False)]


def test_a_refused_decision_keeps_no_decision_and_no_scan(db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    mum = factories.user(db, org, Role.GUARDIAN)
    kid = factories.child(db, org, guardians=(mum,))
    other = factories.organisation(db)
    ours = {u.code: u for u in consent.list_uses(session=db, organisation=org)}
    # The second use is another club's: refused after the first decision was written.
    theirs = consent.list_uses(session=db, organisation=other)[0]
    form = paper.PaperForm(
        guardian=mum,
        signed_on=utcnow().date(),
        answers={Use.WEBSITE: True, theirs.code: False},
        scan=png_bytes(),
    )
    with pytest.raises(paper.PaperFormError, match="must belong to this organisation"):
        paper.record_paper_form(
            session=db,
            organisation=org,
            child=kid,
            uses=[ours[Use.WEBSITE], theirs],
            form=form,
            recorded_by=staff,
            now=utcnow(),
        )
    assert db.exec(select(ConsentDecision)).all() == []
    recorded = select(AuditEvent).where(AuditEvent.action == "consent.decision_recorded")
    assert db.exec(recorded).all() == []
    scans = get_settings().resolved_media_dir / "evidence" / str(org.id)
    assert not scans.exists() or list(scans.iterdir()) == []
