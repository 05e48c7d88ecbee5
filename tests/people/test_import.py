"""Member import from CSV: the pure parser, the plan against the database, and the pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import func, select

from consentlens.audit.models import AuditEvent
from consentlens.audit.service import Origin
from consentlens.auth import service as accounts
from consentlens.auth.models import Role, User
from consentlens.people import import_apply, import_rows, importer
from consentlens.people.import_service import Action
from consentlens.people.models import Child, ChildGroup, Group, Guardianship
from tests import factories
from tests.conftest import csrf_from, login
from tests.factories.people import HEADER, csv_bytes, plan

TODAY = date(2026, 11, 24)
GOOD = [
    "A1;Lotte;Peeters;14/03/2016;U10 Dolfijnen;"
    "Ann Peeters;Ann.Peeters@Example.be;Bart Peeters;bart@example.be",
    "A2;Zoë;Ölçer;2015-01-31;U10 Dolfijnen|Keepers;Ayla Ölçer;ayse@example.be;;",
    ";Émile;Dubois;02.11.2013;U14;Claire Dubois;claire@example.be;;",
]


def parse(data: bytes) -> importer.ParsedFile:
    return importer.parse(data=data, today=TODAY)


def msgids(messages) -> list[str]:
    return [m.msgid for m in messages]


def rendered(m: import_rows.Message) -> str:
    return m.msgid % m.params


# --- the pure parser -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-8", ";"), ("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";"), ("cp1252", ",")],
)
def test_the_parser_reads_every_encoding_and_separator(encoding, sep):
    parsed = parse(csv_bytes(HEADER, *GOOD, encoding=encoding, sep=sep))
    assert parsed.problems == ()
    lotte, zoe, emile = parsed.rows
    assert [r.errors for r in parsed.rows] == [(), (), ()]
    assert (zoe.first_name, zoe.last_name, zoe.birth_date) == ("Zoë", "Ölçer", date(2015, 1, 31))
    assert zoe.groups == ("U10 Dolfijnen", "Keepers")
    assert zoe.guardians[0].name == "Ayla Ölçer"
    assert (emile.first_name, emile.external_id, emile.birth_date) == (
        "Émile",
        None,
        date(2013, 11, 2),
    )
    assert lotte.external_id == "A1" and lotte.line == 2 and emile.line == 4
    assert [g.email for g in lotte.guardians] == ["ann.peeters@example.be", "bart@example.be"]


def test_header_names_in_french_and_english_with_odd_spacing_and_case():
    french = parse(
        csv_bytes(
            " Prénom ;NOM;Date de naissance;Équipe;Parent1_Email;parent1_téléphone",
            "Léa;Lambert;1/2/2014;U12;lea@x.be;0470",
        )
    )
    english = parse(
        csv_bytes(
            "First Name,Last-Name,birth_date,guardian1_email,Notes",
            "Tom,Claes,2014-02-01,t@x.be,hi",
        )
    )
    assert french.problems == () and english.problems == ()
    assert french.rows[0].birth_date == english.rows[0].birth_date == date(2014, 2, 1)
    assert french.rows[0].groups == ("U12",) and french.rows[0].guardians[0].phone == "0470"
    assert english.rows[0].groups is None  # no group column: groups are left alone
    assert english.ignored_columns == ("Notes",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-05-01", date(2016, 5, 1)),
        ("01/05/2016", date(2016, 5, 1)),
        ("1-5-2016", date(2016, 5, 1)),
        ("01.05.2016", date(2016, 5, 1)),
        ("29/02/2016", date(2016, 2, 29)),
        ("24/11/2001", date(2001, 11, 24)),
        ("24/11/2026", date(2026, 11, 24)),
    ],
)
def test_accepted_birth_dates(text, expected):
    assert import_rows.parse_birth_date(text=text, line=7, today=TODAY) == (expected, None)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("31/02/2016", "Row 7: the date “31/02/2016” does not exist."),
        ("29-02-2015", "Row 7: the date “29-02-2015” does not exist."),
        ("25/11/2026", "Row 7: the birth date “25/11/2026” is in the future."),
        ("23/11/2001", "Row 7: the birth date “23/11/2001” is more than 25 years ago."),
        ("05/01/16", "Row 7: “05/01/16” is not a date; write it as DD/MM/YYYY or YYYY-MM-DD."),
        ("1 mei 2016", "Row 7: “1 mei 2016” is not a date; write it as DD/MM/YYYY or YYYY-MM-DD."),
        ("01/05-2016", "Row 7: “01/05-2016” is not a date; write it as DD/MM/YYYY or YYYY-MM-DD."),
        ("", "Row 7: the birth date is missing."),
    ],
)
def test_refused_birth_dates_name_the_row_and_the_value(text, says):
    born, problem = import_rows.parse_birth_date(text=text, line=7, today=TODAY)
    assert born is None and problem is not None and rendered(problem) == says


def test_bad_rows_get_their_own_messages():
    parsed = parse(
        csv_bytes(
            "first_name;last_name;birth_date;guardian1_email;guardian1_language;guardian2_name;guardian2_email",
            "Ann;;2015-01-01;ann@x.be;nl;;",
            "Bo;Maes;2015-01-01;;;;",
            "Cas;Maes;2015-01-01;not-an-address;;;",
            "Dirk;Maes;2015-01-01;d@x.be;de;;",
            "Eva;Maes;2015-01-01;e@x.be;;Second Parent;",
            "Fien;Maes;2015-01-01;f@x.be;FR;Fien's dad;F@X.BE",
        )
    )
    messages = [[rendered(m) for m in row.errors] for row in parsed.rows]
    assert messages == [
        ["Row 2: the last name is missing."],
        ["Row 3: the e-mail address of guardian 1 is missing."],
        ["Row 4: “not-an-address” is not a valid e-mail address (guardian 1)."],
        ["Row 5: the language “de” is not nl, fr or en."],
        ["Row 6: the e-mail address of guardian 2 is missing."],
        [],
    ]
    fien = parsed.rows[-1]
    assert len(fien.guardians) == 1 and fien.guardians[0].language == "fr"


def test_duplicates_within_the_file_are_refused_after_the_first():
    parsed = parse(
        csv_bytes(
            "id;first_name;last_name;birth_date;guardian1_email",
            "7;Lotte;Peeters;2016-03-14;a@x.be",
            "7;Other;Child;2015-03-14;b@x.be",
            ";  lotte ; PEETERS;14/03/2016;a@x.be",
            "8;Twin;Same;2016-01-01;c@x.be",
            "9;Twin;Same;2016-01-01;c@x.be",
        )
    )
    assert [[rendered(m) for m in row.errors] for row in parsed.rows] == [
        [],
        ["Row 3: the same member number as row 2."],
        ["Row 4: the same child as row 2."],
        [],
        [],  # different member numbers: two children
    ]


def test_quoted_cells_and_blank_lines_and_the_excel_sep_line():
    parsed = parse(
        b"sep=,\r\nfirst_name,last_name,birth_date,guardian1_name,guardian1_email\r\n"
        b'"Anna, Maria",Smit,2015-01-01,"Jan ""JJ""\nSmit",jan@x.be\r\n,,,,\r\n\r\n'
    )
    assert parsed.problems == ()
    (row,) = parsed.rows
    assert row.first_name == "Anna, Maria" and row.guardians[0].name == 'Jan "JJ"\nSmit'


def test_a_missing_required_column_lists_what_was_found():
    parsed = parse(csv_bytes("Voornaam;Achternaam;Geboorte;Email", "A;B;2015-01-01;a@x.be"))
    assert parsed.rows == ()
    (problem,) = parsed.problems
    assert rendered(problem) == (
        "Required columns are missing: birth_date / geboortedatum / date_naissance; "
        "guardian1_email / ouder1_email / parent1_email. "
        "Columns found: “Voornaam”, “Achternaam”, “Geboorte”, “Email”."
    )


@pytest.mark.parametrize(
    ("data", "msgid"),
    [
        (b"", "The file is empty."),
        (b"\xef\xbb\xbf \r\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "This does not look like a CSV file."),
        (b"\x01\x02\x03 binary \x04\x05", "This does not look like a CSV file."),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            "This is a spreadsheet file, not CSV. In Excel, save it as “CSV (;)”.",
        ),
        ("first_name;last_name".encode("utf-16"), "This does not look like a CSV file."),
        (
            b"first_name;last_name;birth_date;guardian1_email\r\n;;;\r\n",
            "The file has column names but no members.",
        ),
        (b"x" * (importer.MAX_BYTES + 1), "The file is larger than 2 MB."),
    ],
)
def test_files_that_cannot_be_read_get_one_clear_message(data, msgid):
    parsed = parse(data)
    assert parsed.rows == () and msgids(parsed.problems) == [msgid]


def test_at_most_5000_rows():
    lines = [f"Kid{n};Peeters;2015-01-01;p{n}@x.be" for n in range(5001)]
    parsed = parse(csv_bytes("first_name;last_name;birth_date;guardian1_email", *lines))
    assert [rendered(m) for m in parsed.problems] == [
        "The file has 5001 rows; at most 5000 can be imported at once."
    ]
    assert (
        len(parse(csv_bytes("first_name;last_name;birth_date;guardian1_email", *lines[:5000])).rows)
        == 5000
    )


# --- planning and applying against the database ----------------------------------------------


def counts(db) -> dict[str, int]:
    return {
        model.__name__: db.exec(select(func.count()).select_from(model)).one()
        for model in (Child, User, Guardianship, Group, ChildGroup)
    }


def apply(db, org, actor, data: bytes) -> import_apply.ImportResult:
    return import_apply.apply_import(
        session=db, organisation=org, plan=plan(db, org, data), actor=actor, origin=Origin()
    )


def test_importing_creates_children_groups_and_guardians_and_again_changes_nothing(db):
    org = factories.organisation(db)
    admin = factories.user(db, org, Role.ADMIN)
    known = accounts.create_user(session=db, email="claire@example.be", full_name="Claire D.")
    data = csv_bytes(HEADER, *GOOD)
    before = counts(db)
    result = apply(db, org, admin, data)
    assert (result.created, result.updated, result.unchanged, result.skipped) == (3, 0, 0, ())
    assert sorted(result.groups_created) == ["Keepers", "U10 Dolfijnen", "U14"]
    assert result.accounts_created == 3  # Claire already had an account
    after = counts(db)
    assert {k: after[k] - before[k] for k in after} == {
        "Child": 3,
        "User": 3,
        "Guardianship": 4,
        "Group": 3,
        "ChildGroup": 4,
    }
    ann = db.exec(select(User).where(User.email == "ann.peeters@example.be")).one()
    assert ann.password_hash is None and ann.full_name == "Ann Peeters"
    assert accounts.roles_in(session=db, user_id=known.id, organisation_id=org.id) == {
        Role.GUARDIAN
    }

    again = plan(db, org, data)
    assert again.counts == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    assert not again.has_changes
    apply(db, org, admin, data)
    assert counts(db) == after


def test_a_changed_row_updates_the_child_and_keeps_guardians_not_in_the_file(db):
    org = factories.organisation(db)
    admin = factories.user(db, org, Role.ADMIN)
    apply(db, org, admin, csv_bytes(HEADER, *GOOD))
    changed = csv_bytes(
        HEADER,
        "A1;Lotte-Marie;Peeters;15/03/2016;U12;Ann Peeters;ann.peeters@example.be;;",
        "A2;Zoë;Ölçer;2015-01-31;Keepers|u10 dolfijnen;"
        "Ayla Ölçer;ayse@example.be;Mehmet;mehmet@example.be",
        ";  émile ;DUBOIS ;2013-11-02;U14;;claire@example.be;;",
    )
    planned = plan(db, org, changed)
    lotte, zoe, emile = planned.rows
    assert lotte.action is Action.UPDATE
    assert [rendered(m) for m in lotte.changes] == [
        "First name: Lotte → Lotte-Marie",
        "Birth date: 2016-03-14 → 2016-03-15",
        "Groups: U10 Dolfijnen → U12",
    ]
    assert [rendered(m) for m in lotte.notes] == [
        "Bart Peeters (bart@example.be) is not in the file and stays linked as a guardian."
    ]
    assert zoe.action is Action.UPDATE  # only the new guardian: group names match ignoring case
    assert [rendered(m) for m in zoe.changes] == ["New guardian: Mehmet (mehmet@example.be)"]
    # Matched on names and birth date, ignoring case and spaces; the names take the file's spelling.
    assert emile.action is Action.UPDATE and emile.child_id is not None
    assert [rendered(m) for m in emile.changes] == [
        "First name: Émile → émile",
        "Last name: Dubois → DUBOIS",
    ]
    before = counts(db)
    result = apply(db, org, admin, changed)
    assert (result.created, result.updated) == (0, 3)
    child = db.get(Child, lotte.child_id)
    assert (child.first_name, child.birth_date) == ("Lotte-Marie", date(2016, 3, 15))
    groups = db.exec(
        select(Group.name).join(ChildGroup).where(ChildGroup.child_id == child.id)
    ).all()
    assert groups == ["U12"]
    after = counts(db)
    assert {k: after[k] - before[k] for k in after} == {
        "Child": 0,
        "User": 1,
        "Guardianship": 1,
        "Group": 1,
        "ChildGroup": 0,
    }
    assert plan(db, org, changed).counts["unchanged"] == 3


def test_a_member_number_is_added_to_a_child_known_by_name(db):
    org = factories.organisation(db)
    admin = factories.user(db, org, Role.ADMIN)
    kid = factories.child(
        db, org, first_name="Noor", last_name="Claes", birth_date=date(2014, 6, 1)
    )
    data = csv_bytes(
        "lidnummer;voornaam;naam;geboortedatum;ouder1_email", "X9;noor;claes;01/06/2014;p@x.be"
    )
    (row,) = plan(db, org, data).rows
    assert row.action is Action.UPDATE and row.child_id == kid.id
    assert rendered(row.changes[0]) == "First name: Noor → noor"
    apply(db, org, admin, data)
    assert db.get(Child, kid.id).external_id == "X9"


def test_rows_that_conflict_with_the_database_are_errors(db):
    org = factories.organisation(db)
    admin = factories.user(db, org, Role.ADMIN)
    factories.child(db, org, first_name="Sam", last_name="Wouters", birth_date=date(2014, 6, 1))
    factories.child(db, org, first_name="Sam", last_name="Wouters", birth_date=date(2014, 6, 1))
    data = csv_bytes(
        "first_name;last_name;birth_date;guardian1_email",
        "Sam;Wouters;2014-06-01;p@x.be",
        "Nieuw;Kind;2015-06-01;p@x.be",
    )
    ambiguous, new = plan(db, org, data).rows
    assert ambiguous.action is Action.ERROR and new.action is Action.CREATE
    assert [rendered(m) for m in ambiguous.errors] == [
        "Row 2: several members have this name and birth date; add a member number."
    ]
    result = apply(db, org, admin, data)
    assert result.created == 1 and [p.row.line for p in result.skipped] == [2]


def test_a_row_the_database_refuses_after_planning_is_skipped_not_fatal(db):
    from consentlens.people import children as child_service

    org = factories.organisation(db)
    admin = factories.user(db, org, Role.ADMIN)
    data = csv_bytes(HEADER, *GOOD)
    planned = plan(db, org, data)
    # Someone else takes member number A2 between the preview and the confirmation.
    child_service.create_child(
        session=db,
        organisation=org,
        first_name="Other",
        last_name="Kid",
        birth_date=date(2015, 1, 1),
        external_id="A2",
    )
    result = import_apply.apply_import(
        session=db, organisation=org, plan=planned, actor=admin, origin=Origin()
    )
    assert (result.created, [p.row.line for p in result.skipped]) == (2, [3])
    assert msgids(result.skipped[0].errors) == ["Another child already has this external id."]


def test_archived_members_and_groups_are_not_revived_by_an_import(db):
    from consentlens.people import children as child_service

    org = factories.organisation(db)
    kid = factories.child(db, org, first_name="Mats", last_name="Smet", birth_date=date(2014, 2, 2))
    child_service.set_child_archived(session=db, organisation=org, child=kid, archived=True)
    old = factories.group(db, org, "U8 (2019)")
    old.archived_at = kid.archived_at
    db.add(old)
    db.flush()
    data = csv_bytes(
        "first_name;last_name;birth_date;group;guardian1_email",
        "Mats;Smet;2014-02-02;U10;m@x.be",
        "Nina;Smet;2016-02-02;u8 (2019);m@x.be",
    )
    assert [[rendered(m) for m in p.errors] for p in plan(db, org, data).rows] == [
        ["Row 2: this member is archived."],
        ["Row 3: the group “u8 (2019)” is archived."],
    ]


def test_the_audit_trail_records_one_event_per_import(db):
    org = factories.organisation(db)
    admin = factories.user(db, org, Role.ADMIN)
    apply(db, org, admin, csv_bytes(HEADER, *GOOD, "A9;;;bad;;;;;"))
    (event,) = db.exec(select(AuditEvent).where(AuditEvent.action == "people.import")).all()
    assert event.organisation_id == org.id and event.actor_id == admin.id
    assert event.details == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "skipped": 1,
        "groups_created": 3,
        "accounts_created": 4,
        "confirmations_requested": 0,
    }


# --- the pages ---------------------------------------------------------------------------------


def _signed_in(client, db, role=Role.ADMIN):
    org = factories.organisation(db)
    person = factories.user(db, org, role, locale="en")
    login(client, person.email, factories.PASSWORD)
    return org, person


def _preview(client, data: bytes, filename: str = "leden.csv"):
    token = csrf_from(client.get("/staff/import").text)
    files = {"file": (filename, data, "text/csv")}
    return client.post("/staff/import/preview", data={"csrf_token": token}, files=files)


def _confirm_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no confirm form"
    return match.group(1)


def test_upload_preview_confirm_and_the_result_page(client, db):
    org, _admin = _signed_in(client, db)
    page = client.get("/staff/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert "ouder1_email" in page.text
    data = csv_bytes(HEADER, *GOOD, "A4;Bram;;31/02/2016;U10 Dolfijnen;;bram@x;;")
    preview = _preview(client, data)
    assert preview.status_code == 200, preview.text
    html = preview.text
    assert "leden.csv" in html and "Zoë Ölçer" in html
    assert "Row 5: the last name is missing." in html
    assert "Row 5: the date “31/02/2016” does not exist." in html
    assert "Row 5: “bram@x” is not a valid e-mail address (guardian 1)." in html
    assert "New groups: Keepers, U10 Dolfijnen, U14" in html
    assert db.exec(select(func.count()).select_from(Child)).one() == 0  # nothing yet

    confirm = client.post(
        "/staff/import/confirm",
        data={"csrf_token": csrf_from(html), "token": _confirm_token(html)},
    )
    assert confirm.status_code == 303
    assert confirm.headers["location"].startswith("/staff/import/done?token=")
    done = client.get(confirm.headers["location"])
    assert done.status_code == 200
    assert "<strong>3</strong>" in done.text and "Skipped rows" in done.text
    assert "Row 5: the last name is missing." in done.text
    names = db.exec(select(Child.first_name).where(Child.organisation_id == org.id)).all()
    assert sorted(names) == ["Lotte", "Zoë", "Émile"]

    # Confirming twice (a double click) imports once.
    again = client.post(
        "/staff/import/confirm",
        data={"csrf_token": csrf_from(html), "token": _confirm_token(html)},
    )
    assert again.status_code == 400 and "already imported" in again.text
    # The same file again: all unchanged, nothing to confirm.
    second = _preview(client, data)
    assert "There is nothing to import" in second.text and 'name="token"' not in second.text


def test_the_example_file_is_accepted_by_the_importer(client, db):
    _signed_in(client, db)
    example = client.get("/staff/import/example.csv")
    assert example.status_code == 200 and example.headers["content-type"].startswith("text/csv")
    assert example.content.startswith(b"\xef\xbb\xbfexternal_id;first_name")
    preview = _preview(client, example.content)
    assert preview.status_code == 200 and "Émile Dubois" in preview.text
    assert "Rows with errors" not in preview.text and 'name="token"' in preview.text
    client.get("/lang/nl")
    dutch = client.get("/staff/import/example.csv").content
    assert dutch.startswith(b"\xef\xbb\xbflidnummer;voornaam;achternaam;geboortedatum;groep;")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "Choose a CSV file to upload."),
        (b"\x00\x01\x02", "This does not look like a CSV file."),
        (b"naam;email\r\nx;y\r\n", "Required columns are missing"),
        (b"a" * (2 * 1024 * 1024 + 10), "The file is larger than 2 MB."),
    ],
)
def test_unreadable_uploads_re_render_the_form_with_a_message(client, db, data, says):
    _signed_in(client, db)
    response = _preview(client, data, filename="" if not data else "x.csv")
    assert response.status_code == 400
    assert says in response.text and 'id="form-errors"' in response.text


def test_another_organisation_cannot_confirm_an_upload(client, app, db):
    from fastapi.testclient import TestClient

    _signed_in(client, db)
    html = _preview(client, csv_bytes(HEADER, *GOOD)).text
    token = _confirm_token(html)
    with TestClient(app, follow_redirects=False) as other:
        _signed_in(other, db)
        form = csrf_from(other.get("/staff/import").text)
        response = other.post("/staff/import/confirm", data={"csrf_token": form, "token": token})
        assert response.status_code == 403
        assert "belongs to another organisation" in response.text
    assert db.exec(select(func.count()).select_from(Child)).one() == 0
    # The owner can still confirm it.
    ok = client.post("/staff/import/confirm", data={"csrf_token": csrf_from(html), "token": token})
    assert ok.status_code == 303


def test_a_forged_token_is_refused(client, db):
    _signed_in(client, db)
    form = csrf_from(client.get("/staff/import").text)
    response = client.post("/staff/import/confirm", data={"csrf_token": form, "token": "abc.def"})
    assert response.status_code == 400 and "not valid" in response.text
    assert client.get("/staff/import/done?token=abc").status_code == 404


def test_guardians_have_no_access_to_the_import_pages(client, db):
    _signed_in(client, db, Role.GUARDIAN)
    token = csrf_from(client.get("/family").text)
    assert client.get("/staff/import").status_code == 403
    assert client.get("/staff/import/example.csv").status_code == 403
    files = {"file": ("x.csv", csv_bytes(HEADER, *GOOD), "text/csv")}
    assert (
        client.post("/staff/import/preview", data={"csrf_token": token}, files=files).status_code
        == 403
    )
    assert (
        client.post("/staff/import/confirm", data={"csrf_token": token, "token": "x"}).status_code
        == 403
    )
    assert client.get("/staff/import/done?token=x").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/staff/import")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize(
    ("new", "existing", "means"),
    [
        ("U10", ["U10 Dolfijnen", "U12"], "U10 Dolfijnen"),
        ("u 10", ["U10"], "U10"),
        ("U10 Dolfijnen Extra", ["U10 Dolfijnen"], "U10 Dolfijnen"),
        ("Keepers", ["U10 Dolfijnen"], None),
        ("U1", ["U10"], None),  # another word, not a prefix of one
        ("", ["U10"], None),
    ],
)
def test_a_new_group_name_like_an_existing_one_is_found(new, existing, means):
    from consentlens.people.import_service import similar_group

    assert similar_group(name=new, existing=existing) == means


def test_the_preview_warns_of_likely_duplicate_members_and_groups(client, db):
    from consentlens.people import groups as group_service

    org, admin = _signed_in(client, db)
    group_service.create_group(
        session=db, organisation=org, name="U10 Dolfijnen", actor=admin, origin=Origin()
    )
    factories.child(db, org, first_name="Lotte", last_name="Peeters")
    db.commit()
    # Lotte again with another birth date, and "U10" for "U10 Dolfijnen".
    data = csv_bytes(HEADER, ";Lotte;Peeters;14/03/2016;U10;Ann Peeters;ann@example.be;;")
    html = _preview(client, data).text
    assert "Lotte Peeters (born " in html and "is already a member" in html
    assert "The new group “U10” looks like the existing group “U10 Dolfijnen”" in html
    assert "1 new row has the name of a member already known" in html

    # Imported anyway (the staff member's call): the result offers to invite the new parents.
    confirm = client.post(
        "/staff/import/confirm", data={"csrf_token": csrf_from(html), "token": _confirm_token(html)}
    )
    done = client.get(confirm.headers["location"])
    new_group = db.exec(select(Group).where(Group.name == "U10")).one()
    assert "Invite the new parents" in done.text
    assert f'action="/staff/groups/{new_group.id}/invite"' in done.text
    # The offer leads to the confirmation step, which sends nothing yet.
    asked = client.post(
        f"/staff/groups/{new_group.id}/invite",
        data={"csrf_token": csrf_from(done.text), "who": "unanswered"},
    )
    assert asked.status_code == 200 and "ann@example.be" in asked.text
