"""How long does a team's batch of printed consent forms take: 300 children, one PDF?

Prints figures; asserts nothing. Run with `make bench`, or `.venv/bin/python bench/forms_speed.py`
(a throw-away SQLite database under a temporary directory).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

VAR = Path(tempfile.mkdtemp(prefix="consentlens-bench-"))
os.environ["CONSENTLENS_VAR_DIR"] = str(VAR)

from sqlmodel import Session

from consentlens import wiring
from consentlens.auth import service as accounts
from consentlens.auth.models import Role
from consentlens.core.db import make_engine
from consentlens.db import migrate
from consentlens.forms import pdf
from consentlens.forms import service as forms
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import groups as group_service
from consentlens.people import guardianships
from consentlens.people.models import Group

CHILDREN = 300
RUNS = 3
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
FIRST = ["Łukasz", "Zoë", "Őrs", "Çağla", "Anaïs", "Søren", "Jan", "Noor", "Chloé", "Mehmet"]
LAST = ["Kowalski", "Ölçer", "Szabó", "Şahin", "Peeters", "Dvořák", "Janssens", "Lefèvre"]


def seed(session: Session) -> tuple[Organisation, Group, int]:
    rng = random.Random(7)
    org = organisations.create_organisation(session=session, name="Bench club", today=NOW.date())
    staff = accounts.create_user(session=session, email="staff@bench.test", full_name="Staff")
    accounts.add_membership(session=session, user=staff, organisation=org, role=Role.STAFF)
    team = group_service.create_group(session=session, organisation=org, name="Everyone")
    guardians = 0
    for n in range(CHILDREN):
        kid = child_service.create_child(
            session=session,
            organisation=org,
            first_name=f"{rng.choice(FIRST)}{n}",
            last_name=rng.choice(LAST),
            birth_date=date(2010 + n % 10, 1 + n % 12, 1),
        )
        child_service.set_child_groups(session=session, organisation=org, child=kid, groups=[team])
        for k in range(rng.choice((1, 2, 2))):
            parent = accounts.create_user(
                session=session,
                email=f"p{n}-{k}@bench.test",
                full_name=f"Parent {rng.choice(LAST)} {n}-{k}",
                locale=rng.choice(("nl", "fr", "en")),
            )
            guardianships.create_guardianship(
                session=session, organisation=org, child=kid, user=parent
            )
            guardians += 1
    session.commit()
    assert staff.id is not None
    return org, team, guardians


def main() -> None:
    # Organisations get their default uses, and consent news its listeners, only when wired.
    wiring.install_process()
    url = f"sqlite:///{VAR / 'bench.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    render_times: list[float] = []
    render = pdf.render_forms

    def timed_render(*args: object, **kwargs: object) -> bytes:
        start = time.perf_counter()
        result = render(*args, **kwargs)  # type: ignore[arg-type]
        render_times.append(time.perf_counter() - start)
        return result

    # The service looks the function up on the module at each call: time the PDF part alone.
    pdf.render_forms = timed_render  # type: ignore[assignment]
    with Session(engine) as session:
        org, team, guardians = seed(session)
        staff = accounts.get_user_by_email(session=session, email="staff@bench.test")
        assert staff is not None
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            printed = forms.group_forms(
                session=session, organisation=org, group=team, actor=staff, now=NOW
            )
            times.append(time.perf_counter() - start)
            session.rollback()
    engine.dispose()
    print(
        f"printed forms, {CHILDREN} children and {guardians} personal QR codes in one PDF: "
        f"median {statistics.median(times):.2f} s over {RUNS} runs, of which "
        f"{statistics.median(render_times):.2f} s drawing the PDF and the rest creating links "
        f"and form ids; {len(printed.pdf) / 1e6:.2f} MB, "
        f"{len(printed.pdf) / 1024 / CHILDREN:.0f} kB per form"
    )


if __name__ == "__main__":
    main()
