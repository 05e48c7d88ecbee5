"""The cross-organisation account takeover of issue 10 §1, as a regression test, step by step.

The chain as reproduced: staff of club B add a guardian to one of B's children with the e-mail
address of club A's admin (the existing account is linked), send that "guardian" an invitation,
read the short code on the child page, open /code with it in a fresh browser (now signed in as
A's admin), set a new password at /account/password (no current password asked), sign in: full
admin of club A. The CSV import and the API link existing accounts by e-mail the same way.

The chain must break at its first step (linking an existing account of another organisation gives
club B no power over it: at most a pending invitation its holder confirms, no sign-in link or code
for it, nothing that reaches a session), and, in depth, at every later step too.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from consentlens.auth import links
from consentlens.auth import service as accounts
from consentlens.auth.models import ConsentLink, Membership, Role, User
from consentlens.core.config import get_settings
from consentlens.core.tables import utcnow
from consentlens.organisations import service as organisations
from consentlens.organisations.models import Organisation
from consentlens.people import children as child_service
from consentlens.people import guardianships
from consentlens.people.models import Child
from tests.conftest import bearer, csrf_from, login
from tests.factories import PASSWORD
from tests.security.harness import Harness, send
from tests.security.world import IMPORT_HEADER

ATTACKER_PASSWORD = "chosen-by-the-attacker-1"
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")
# Club A's name and its child's family name: a browser of the attacker that shows one is inside
# club A (the people's own names differ, so the victim's name in the menu does not count).
CLUB_A_WORDS = ("Aldramoor", "Pimsworth")


@dataclass
class Scene:
    org_a: Organisation
    admin_a: User
    staff_a: User
    parent_a: User
    child_a: Child
    org_b: Organisation
    staff_b: User
    child_b: Child

    def target(self, name: str) -> User:
        return {"admin": self.admin_a, "staff": self.staff_a, "parent": self.parent_a}[name]


def _user(session: Session, address: str, name: str, password: str | None = PASSWORD) -> User:
    return accounts.create_user(
        session=session, email=address, full_name=name, password=password, locale="en"
    )


def _org(session: Session, name: str) -> Organisation:
    return organisations.create_organisation(
        session=session,
        name=name,
        slug=name.lower().replace(" ", "-"),
        today=date(2026, 11, 24),
        default_locale="en",
    )


@pytest.fixture
def scene(harness: Harness) -> Scene:
    with harness.session(expire_on_commit=False) as session:
        org_a = _org(session, "Club Aldramoor")
        admin_a = _user(session, "ada@club-a.example", "Ada Quennell")
        accounts.add_membership(session=session, user=admin_a, organisation=org_a, role=Role.ADMIN)
        staff_a = _user(session, "cas@club-a.example", "Cas Rowntree")
        accounts.add_membership(session=session, user=staff_a, organisation=org_a, role=Role.STAFF)
        parent_a = _user(session, "petra@family-a.example", "Petra Sallow")
        child_a = child_service.create_child(
            session=session,
            organisation=org_a,
            first_name="Pim",
            last_name="Pimsworth",
            birth_date=date(2016, 5, 1),
        )
        guardianships.create_guardianship(
            session=session, organisation=org_a, child=child_a, user=parent_a
        )
        org_b = _org(session, "Club Borvik")
        staff_b = _user(session, "bo@club-b.example", "Bo Borvik")
        accounts.add_membership(session=session, user=staff_b, organisation=org_b, role=Role.STAFF)
        child_b = child_service.create_child(
            session=session,
            organisation=org_b,
            first_name="Bram",
            last_name="Borvik",
            birth_date=date(2016, 5, 1),
        )
        session.commit()
    return Scene(org_a, admin_a, staff_a, parent_a, child_a, org_b, staff_b, child_b)


def _browser(harness: Harness, user: User | None = None) -> TestClient:
    client = harness.client()
    client.cookies.set("lang", "en")
    if user is not None:
        login(client, user.email, PASSWORD)
    return client


def _csrf(client: TestClient, page: str) -> str:
    response = send(client, "GET", page)
    assert response.status_code == 200, f"GET {page}: {response.status_code} {response.text[:200]}"
    return csrf_from(response.text)


class Outbox:
    """The e-mails the app writes while a test runs (no SMTP host in tests: .eml files)."""

    def __init__(self) -> None:
        self.folder: Path = get_settings().outbox_dir
        self.before = set(self.folder.glob("*.eml")) if self.folder.exists() else set()

    def to(self, address: str) -> list[str]:
        found = []
        for path in sorted(set(self.folder.glob("*.eml")) - self.before):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address.lower() in str(message["To"]).lower():
                body = message.get_body(("plain",))
                found.append(body.get_content() if body else "")
        return found


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


# --- how club B links an existing account: the page, the CSV import, the API ------------------


def _by_page(harness: Harness, scene: Scene, attacker: TestClient, address: str) -> int:
    child_id = scene.child_b.id
    send(
        attacker,
        "POST",
        f"/staff/children/{child_id}/guardians",
        data={
            "csrf_token": _csrf(attacker, f"/staff/children/{child_id}/edit"),
            "full_name": "Someone Typed",
            "email": address,
            "relation": "parent",
            "locale": "en",
        },
    )
    assert child_id is not None
    return child_id


def _by_import(harness: Harness, scene: Scene, attacker: TestClient, address: str) -> int:
    row = f"B77;Ivo;Imported;14/03/2016;U10;Someone Typed;{address}"
    preview = send(
        attacker,
        "POST",
        "/staff/import/preview",
        data={"csrf_token": _csrf(attacker, "/staff/import")},
        files={"file": ("members.csv", f"{IMPORT_HEADER}\r\n{row}\r\n".encode(), "text/csv")},
    )
    match = re.search(r'name="token" value="([^"]+)"', preview.text)
    if match:
        send(
            attacker,
            "POST",
            "/staff/import/confirm",
            data={"csrf_token": csrf_from(preview.text), "token": match.group(1)},
        )
    with harness.session() as session:
        child = session.exec(
            select(Child).where(
                Child.organisation_id == scene.org_b.id, Child.last_name == "Imported"
            )
        ).first()
        assert child is not None and child.id is not None, "the import did not add the child"
        return child.id


def _by_api(harness: Harness, scene: Scene, attacker: TestClient, address: str) -> int:
    response = send(
        attacker,
        "POST",
        "/api/v1/children",
        headers=bearer(attacker, scene.staff_b.email, PASSWORD),
        json={
            "first_name": "Ivo",
            "last_name": "Imported",
            "birth_date": "2016-03-14",
            "guardians": [{"full_name": "Someone Typed", "email": address}],
        },
    )
    if response.status_code == 201:
        return response.json()["id"]
    # Refused outright: the later steps then run on a child the account is not linked to.
    assert scene.child_b.id is not None
    return scene.child_b.id


ENTRIES: dict[str, Callable[[Harness, Scene, TestClient, str], int]] = {
    "page": _by_page,
    "csv-import": _by_import,
    "api": _by_api,
}
TARGETS = ("admin", "staff", "parent")


def _invite(attacker: TestClient, child_id: int) -> None:
    send(
        attacker,
        "POST",
        f"/staff/children/{child_id}/invite",
        data={"csrf_token": _csrf(attacker, f"/staff/children/{child_id}")},
    )


def _links_for(harness: Harness, user: User, organisation: Organisation) -> list[ConsentLink]:
    with harness.session() as session:
        return list(
            session.exec(
                select(ConsentLink).where(
                    ConsentLink.guardian_id == user.id,
                    ConsentLink.organisation_id == organisation.id,
                )
            )
        )


def _can_sign_in(harness: Harness, address: str, password: str) -> bool:
    client = _browser(harness)
    token = _csrf(client, "/login")
    response = send(
        client,
        "POST",
        "/login",
        data={"email": address, "password": password, "csrf_token": token, "next": "/"},
    )
    return response.status_code == 303 and not response.headers["location"].startswith("/login")


def _signed_in_as_someone(client: TestClient) -> list[str]:
    """The pages this browser can open that only a signed-in person could (empty: none)."""
    reachable = []
    for page in ("/admin", "/account/password", "/family", "/consent", "/gallery"):
        response = send(client, "GET", page)
        if response.status_code == 200:
            reachable.append(page)
    return reachable


# --- step 1: linking an existing account of another organisation ------------------------------


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_step1_linking_an_existing_account_gives_the_other_club_no_power_over_it(
    harness: Harness, scene: Scene, outbox: Outbox, entry: str, target: str
) -> None:
    victim = scene.target(target)
    attacker = _browser(harness, scene.staff_b)
    child_id = ENTRIES[entry](harness, scene, attacker, victim.email)

    problems = []
    with harness.session() as session:
        roles_in_b = session.exec(
            select(Membership.role).where(
                Membership.user_id == victim.id, Membership.organisation_id == scene.org_b.id
            )
        ).all()
    if roles_in_b:
        problems.append(
            f"the account of club A's {target} got role(s) {sorted(roles_in_b)} in club B "
            "without its holder confirming"
        )
    edit = send(attacker, "GET", f"/staff/guardians/{victim.id}/edit")
    if edit.status_code not in (403, 404):
        problems.append(
            f"club B's staff can open the edit page of club A's {target}: {edit.status_code}"
        )
    _invite(attacker, child_id)
    made = _links_for(harness, victim, scene.org_b)
    if made:
        problems.append(f"club B made {len(made)} sign-in link(s)/code(s) for club A's {target}")
    mailed = [body for body in outbox.to(victim.email) if "/c/" in body or CODE.search(body)]
    if mailed:
        problems.append(f"club B e-mailed a sign-in link or code to club A's {target}")
    assert not problems, f"linked through the {entry}:\n" + "\n".join(problems)


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_step1_the_other_club_learns_nothing_about_the_existing_account(
    harness: Harness, scene: Scene, entry: str
) -> None:
    """Club B typed an e-mail address; its pages must not tell whose account it is."""
    attacker = _browser(harness, scene.staff_b)
    child_id = ENTRIES[entry](harness, scene, attacker, scene.admin_a.email)
    pages = [f"/staff/children/{child_id}/edit", f"/staff/children/{child_id}", "/staff/guardians"]
    shown = [page for page in pages if scene.admin_a.full_name in send(attacker, "GET", page).text]
    assert not shown, f"club B's pages show the name of club A's admin: {shown}"


# --- later steps, each on its own (the state today's first step leaves behind) ----------------


def _foreign_guardian(harness: Harness, scene: Scene, user: User) -> None:
    """What today's first step does: the account becomes a guardian of club B's child."""
    with harness.session(expire_on_commit=False) as session:
        guardianships.create_guardianship(
            session=session,
            organisation=session.get(Organisation, scene.org_b.id),
            child=session.get(Child, scene.child_b.id),
            user=session.get(User, user.id),
        )
        session.commit()


def _link(harness: Harness, organisation: Organisation, user: User) -> ConsentLink:
    with harness.session(expire_on_commit=False) as session:
        link = links.create_link(
            session=session,
            organisation=session.get(Organisation, organisation.id),
            now=utcnow(),
            guardian=session.get(User, user.id),
        )
        session.commit()
        return link


def test_step3_staff_never_see_a_guardians_live_code(harness: Harness, scene: Scene) -> None:
    attacker = _browser(harness, scene.staff_b)
    _by_page(harness, scene, attacker, "real.parent@borvik.example")
    _invite(attacker, scene.child_b.id)
    with harness.session() as session:
        parent = accounts.get_user_by_email(session=session, email="real.parent@borvik.example")
        assert parent is not None
    codes = [link.short_code for link in _links_for(harness, parent, scene.org_b)]
    assert codes, "the invitation made no link (so nothing to check)"
    page = send(attacker, "GET", f"/staff/children/{scene.child_b.id}").text
    flat = page.replace("-", "")
    shown = [code for code in codes if code in flat or links.format_code(code) in page]
    assert not shown, "the child page shows staff the guardian's live sign-in code"


def _open(client: TestClient, how: str, link: ConsentLink) -> None:
    if how == "code":
        send(
            client,
            "POST",
            "/code",
            data={"csrf_token": _csrf(client, "/code"), "code": links.format_code(link.short_code)},
        )
    else:
        send(client, "GET", f"/c/{links.token_for(link)}")


@pytest.mark.parametrize("how", ["code", "link"])
@pytest.mark.parametrize("target", ["admin", "staff"])
def test_step4_a_code_or_link_never_signs_in_an_account_with_staff_roles(
    harness: Harness, scene: Scene, target: str, how: str
) -> None:
    victim = scene.target(target)
    _foreign_guardian(harness, scene, victim)
    link = _link(harness, scene.org_b, victim)
    fresh = _browser(harness)
    _open(fresh, how, link)
    reachable = _signed_in_as_someone(fresh)
    assert not reachable, (
        f"a {how} made by club B for club A's {target} opened a session that reaches {reachable}"
    )


@pytest.mark.parametrize("how", ["code", "link"])
def test_step4_not_even_its_own_clubs_link_signs_in_a_coach_who_is_a_parent(
    harness: Harness, scene: Scene, how: str
) -> None:
    with harness.session(expire_on_commit=False) as session:
        guardianships.create_guardianship(
            session=session,
            organisation=session.get(Organisation, scene.org_a.id),
            child=session.get(Child, scene.child_a.id),
            user=session.get(User, scene.staff_a.id),
        )
        session.commit()
    link = _link(harness, scene.org_a, scene.staff_a)
    fresh = _browser(harness)
    _open(fresh, how, link)
    reachable = _signed_in_as_someone(fresh)
    assert not reachable, f"a {how} for a staff member opened a session that reaches {reachable}"


def _change_password(client: TestClient, **fields: str) -> int:
    token = _csrf(client, "/account/password")
    data = {"password": ATTACKER_PASSWORD, "repeat": ATTACKER_PASSWORD, "csrf_token": token}
    response = send(client, "POST", "/account/password", data={**data, **fields})
    return response.status_code


@pytest.mark.parametrize(
    "current",
    [pytest.param(None, id="no-current-password"), pytest.param("wrong-password-0", id="wrong")],
)
@pytest.mark.parametrize("target", TARGETS)
def test_step5_changing_the_password_needs_the_current_password(
    harness: Harness, scene: Scene, target: str, current: str | None
) -> None:
    victim = scene.target(target)
    browser = _browser(harness, victim)
    status = _change_password(browser, **({"current_password": current} if current else {}))
    assert status in (400, 403, 422), f"the password form answered {status}"
    assert not _can_sign_in(harness, victim.email, ATTACKER_PASSWORD), "the password was changed"
    assert _can_sign_in(harness, victim.email, PASSWORD), "the real password stopped working"


def test_step5_the_right_current_password_still_changes_it(harness: Harness, scene: Scene) -> None:
    browser = _browser(harness, scene.parent_a)
    assert _change_password(browser, current_password=PASSWORD) in (200, 303)
    assert _can_sign_in(harness, scene.parent_a.email, ATTACKER_PASSWORD)


@pytest.mark.parametrize("how", ["code", "link"])
def test_step5_a_link_session_cannot_reach_the_password_form(
    harness: Harness, scene: Scene, how: str
) -> None:
    """A parent's own link, from their own club: answering consent, nothing about the account."""
    with harness.session(expire_on_commit=False) as session:
        linkless = _user(session, "lou@family-a.example", "Lou Sallow", password=None)
        guardianships.create_guardianship(
            session=session,
            organisation=session.get(Organisation, scene.org_a.id),
            child=session.get(Child, scene.child_a.id),
            user=linkless,
        )
        session.commit()
    fresh = _browser(harness)
    _open(fresh, how, _link(harness, scene.org_a, linkless))
    assert send(fresh, "GET", "/consent").status_code == 200, "the link does not open consent"
    form = send(fresh, "GET", "/account/password")
    assert form.status_code != 200, "a link session opens the password form"
    posted = send(
        fresh,
        "POST",
        "/account/password",
        data={
            "csrf_token": _csrf(fresh, "/consent"),
            "password": ATTACKER_PASSWORD,
            "repeat": ATTACKER_PASSWORD,
        },
    )
    assert posted.status_code in (303, 401, 403, 404) and not _can_sign_in(
        harness, linkless.email, ATTACKER_PASSWORD
    ), f"a link session set a password ({posted.status_code})"


# --- the whole chain, as the attacker runs it ---------------------------------------------------


def _run_chain(harness: Harness, scene: Scene, entry: str, victim: User) -> Iterator[str]:
    """Each step the attacker got through, in order."""
    attacker = _browser(harness, scene.staff_b)
    child_id = ENTRIES[entry](harness, scene, attacker, victim.email)
    _invite(attacker, child_id)
    page = send(attacker, "GET", f"/staff/children/{child_id}").text
    codes = CODE.findall(page)
    if not codes:
        return
    yield f"read {len(codes)} code(s) on the child page"
    for code in codes:
        fresh = _browser(harness)
        send(fresh, "POST", "/code", data={"csrf_token": _csrf(fresh, "/code"), "code": code})
        reachable = _signed_in_as_someone(fresh)
        if not reachable:
            continue
        yield f"code {code} opened a session reaching {reachable}"
        leaked = [
            page
            for page in reachable
            if any(word in send(fresh, "GET", page).text for word in CLUB_A_WORDS)
        ]
        if leaked:
            yield f"that session shows club A's data on {leaked}"
        if "/account/password" in reachable and _change_password(fresh) == 200:
            yield "set a new password without knowing the old one"
    if _can_sign_in(harness, victim.email, ATTACKER_PASSWORD):
        yield "signed in with the new password"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("entry", list(ENTRIES))
def test_the_whole_chain_gets_nowhere(
    harness: Harness, scene: Scene, entry: str, target: str
) -> None:
    victim = scene.target(target)
    steps = list(_run_chain(harness, scene, entry, victim))
    assert not steps, (
        f"the takeover of club A's {target} (linked via {entry}) got through: " + "; ".join(steps)
    )
    assert _can_sign_in(harness, victim.email, PASSWORD), (
        "the victim's own password stopped working"
    )
