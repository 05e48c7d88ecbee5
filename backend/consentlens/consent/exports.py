"""The secretary's spreadsheets: consents (a row per child and use) and members (a row per child
with their guardians), in the club's language, as CSV or XLSX. Every export is audited.

Cells are written as text, and a text that a spreadsheet would run as a formula (it starts with
=, +, -, @, a tab or a carriage return) gets a leading apostrophe: a parent's name must never
become a formula on the secretary's computer.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_date_format
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.consent import service
from consentlens.consent.templating import STATE_LABELS
from consentlens.core.downloads import ascii_filename
from consentlens.core.i18n import N_, get_translations
from consentlens.organisations.models import Organisation
from consentlens.people.children import list_children
from consentlens.people.groups import groups_by_child
from consentlens.people.guardians import guardians_by_child
from consentlens.people.models import Group

FORMATS = ("csv", "xlsx")
KINDS = ("consents", "members")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Babel locales, as on the printed forms.
_DATE_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_GB"}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets in Belgian Dutch and French read ';' as the column separator, English ones ','.
_CSV_DELIMITERS = {"nl": ";", "fr": ";"}

CONSENT_HEADERS = (
    N_("Last name"),
    N_("First name"),
    N_("Date of birth"),
    N_("Groups"),
    N_("Use"),
    N_("Answer"),
    N_("Valid until"),
)
MEMBER_HEADERS = (
    N_("Last name"),
    N_("First name"),
    N_("Date of birth"),
    N_("Groups"),
    N_("Member number"),
)
GUARDIAN_HEADERS = (
    N_("Guardian %(num)d"),
    N_("Guardian %(num)d e-mail"),
    N_("Guardian %(num)d phone"),
    N_("Guardian %(num)d relation"),
)
RELATIONS = {"parent": N_("parent"), "guardian": N_("guardian")}


@dataclass(frozen=True)
class Table:
    """A spreadsheet: its title (the file's name), header row and rows, all text."""

    title: str
    headers: list[str]
    rows: list[list[str]]


def safe_cell(value: str) -> str:
    """The text as a spreadsheet shows it, never as a formula it runs."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def local_date(*, day: date, locale: str) -> str:
    """A date in the locale's short numeric form, always with a four-digit year."""
    babel_locale = _DATE_LOCALES.get(locale, "en_GB")
    pattern = get_date_format("short", locale=babel_locale).pattern
    if "yyyy" not in pattern:
        pattern = pattern.replace("yy", "yyyy")
    return format_date(day, format=pattern, locale=babel_locale)


def _group_names(groups: list[Group]) -> str:
    return ", ".join(g.name for g in groups if g.archived_at is None)


def consent_table(*, session: Session, organisation: Organisation, now: datetime) -> Table:
    """One row per child and use: the answer in force now, and until when it holds."""
    locale = organisation.default_locale
    _ = get_translations(locale).gettext
    children = list_children(session=session, organisation=organisation)
    uses = service.list_uses(session=session, organisation=organisation)
    states = service.effective_consents(
        session=session, organisation=organisation, children=children, uses=uses, now=now
    )
    groups = groups_by_child(session=session, child_ids=[c.id for c in children if c.id])
    zone = ZoneInfo(organisation.timezone)
    rows = []
    for child in children:
        assert child.id is not None
        group_names = _group_names(groups.get(child.id, []))
        for use in uses:
            state = states[(child.id, use.code)]
            until = state.valid_until
            rows.append(
                [
                    child.last_name,
                    child.first_name,
                    local_date(day=child.birth_date, locale=locale),
                    group_names,
                    use.label(locale),
                    _(STATE_LABELS[state.state.value]),
                    # The last local day it still holds (valid_until is exclusive).
                    local_date(day=until.astimezone(zone).date(), locale=locale)
                    if until and state.granted
                    else "",
                ]
            )
    return Table(_("Consents"), [_(h) for h in CONSENT_HEADERS], rows)


def member_table(*, session: Session, organisation: Organisation) -> Table:
    """One row per child, with as many guardian columns as the family with the most guardians."""
    locale = organisation.default_locale
    _ = get_translations(locale).gettext
    children = list_children(session=session, organisation=organisation)
    ids = [c.id for c in children if c.id is not None]
    groups = groups_by_child(session=session, child_ids=ids)
    guardians = guardians_by_child(session=session, child_ids=ids)
    most = max((len(found) for found in guardians.values()), default=0)
    headers = [_(h) for h in MEMBER_HEADERS] + [
        _(h) % {"num": n} for n in range(1, most + 1) for h in GUARDIAN_HEADERS
    ]
    rows = []
    for child in children:
        assert child.id is not None
        row = [
            child.last_name,
            child.first_name,
            local_date(day=child.birth_date, locale=locale),
            _group_names(groups.get(child.id, [])),
            child.external_id or "",
        ]
        for user, link in guardians[child.id]:
            relation = RELATIONS.get(link.relation)
            row += [
                user.full_name,
                user.email,
                user.phone or "",
                _(relation) if relation else link.relation,
            ]
        rows.append(row + [""] * (len(headers) - len(row)))
    return Table(_("Members"), headers, rows)


def to_csv(*, table: Table, locale: str) -> bytes:
    """UTF-8 with a byte-order mark, so that spreadsheets read accents right."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=_CSV_DELIMITERS.get(locale, ","), lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in table.headers])
    writer.writerows([safe_cell(cell) for cell in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(*, table: Table) -> bytes:
    """One sheet, a bold header row that stays in view, every cell text."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = table.title[:31]
    sheet.append([safe_cell(h) for h in table.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([safe_cell(cell) for cell in row])
    for column, header in enumerate(table.headers, start=1):
        width = max([len(header), *(len(row[column - 1]) for row in table.rows[:200])])
        sheet.column_dimensions[sheet.cell(1, column).column_letter].width = min(width + 2, 50)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class ExportFile:
    name: str
    media_type: str
    data: bytes


def export(
    *,
    session: Session,
    organisation: Organisation,
    kind: str,
    file_format: str,
    actor: User,
    now: datetime,
    origin: audit.Origin,
) -> ExportFile:
    """The consents or members spreadsheet as a file, with the export on the audit trail."""
    if kind not in KINDS or file_format not in FORMATS:
        raise ValueError(f"no such export: {kind}.{file_format}")
    locale = organisation.default_locale
    # Recorded before the rows are read: the download is a GET, whose SQLite transaction is not
    # opened for writing, and its first write fails if another commit (the photo worker's) came
    # since its first read. Writing now keeps that window to the sign-in lookup, not the export.
    audit.record(
        session=session,
        action=f"export.{kind}",
        organisation_id=organisation.id,
        actor_id=actor.id,
        subject_type="organisation",
        subject_id=organisation.id,
        details={"format": file_format, "locale": locale},
        origin=origin,
    )
    table = (
        consent_table(session=session, organisation=organisation, now=now)
        if kind == "consents"
        else member_table(session=session, organisation=organisation)
    )
    data = to_csv(table=table, locale=locale) if file_format == "csv" else to_xlsx(table=table)
    day = now.astimezone(ZoneInfo(organisation.timezone)).date().isoformat()
    name = ascii_filename(organisation.name, table.title, day, extension=file_format)
    return ExportFile(name, MEDIA_TYPES[file_format], data)
