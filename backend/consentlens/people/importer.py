"""Reading a member export (CSV) into checked rows: pure, no database and no I/O.

Every problem becomes a `Message` (a msgid with parameters) so pages can show it in the reader's
language; a row with errors is still returned, so the preview can say what is wrong with it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from consentlens.consent.policy import years_after
from consentlens.core.i18n import N_

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_AGE_YEARS = 25
LANGUAGES = ("nl", "fr", "en")

# Field name -> accepted header names, the English, Dutch and French ones first (in that order).
_COLUMN_NAMES = {
    "external_id": "external_id|lidnummer|numéro|id|member_number",
    "first_name": "first_name|voornaam|prénom",
    "last_name": "last_name|achternaam|nom|familienaam|naam|nom de famille",
    "birth_date": "birth_date|geboortedatum|date_naissance|date_of_birth|date de naissance",
    "groups": "group|groep|groupe|groups|ploeg|équipe|klas|classe",
    "guardian{n}_name": "guardian{n}_name|ouder{n}_naam|parent{n}_nom",
    "guardian{n}_email": "guardian{n}_email|ouder{n}_email|parent{n}_email|parent{n}_courriel",
    "guardian{n}_phone": "guardian{n}_phone|ouder{n}_telefoon|parent{n}_téléphone",
    "guardian{n}_language": "guardian{n}_language|ouder{n}_taal|parent{n}_langue",
}
COLUMNS: dict[str, tuple[str, ...]] = {
    key.format(n=n): tuple(names.format(n=n).split("|"))
    for n in (1, 2)
    for key, names in _COLUMN_NAMES.items()
    if n == 1 or "{n}" in key
}
REQUIRED_COLUMNS = ("first_name", "last_name", "birth_date", "guardian1_email")

# Dates as people type them in Belgium and the Netherlands, and as spreadsheets export them.
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_LOCAL_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
# Stricter than the account check, so an address accepted here is never refused later.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_MAX_LENGTHS = {"first_name": 120, "last_name": 120, "external_id": 80}


@dataclass(frozen=True)
class Message:
    """A translatable message: msgid with `%(name)s` placeholders and their values."""

    msgid: str
    params: Mapping[str, str] = field(default_factory=dict)


def message(msgid: str, **params: object) -> Message:
    """A message whose parameters are shown as text."""
    return Message(msgid, {key: str(value) for key, value in params.items()})


class ImportFileError(ValueError):
    """The file as a whole cannot be read; carries the message to show."""

    def __init__(self, problem: Message) -> None:
        super().__init__(problem.msgid)
        self.problem = problem


@dataclass(frozen=True)
class GuardianRow:
    name: str
    email: str  # lower-cased
    phone: str
    language: str | None


@dataclass(frozen=True)
class MemberRow:
    """One child from the file, as read; `errors` empty means it can be imported."""

    line: int  # the spreadsheet row number (the header is row 1)
    first_name: str
    last_name: str
    birth_date: date | None
    birth_date_text: str
    external_id: str | None
    groups: tuple[str, ...] | None  # None: the file has no group column, so groups stay as they are
    guardians: tuple[GuardianRow, ...]
    errors: tuple[Message, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class ParsedFile:
    """The file's columns and rows, or the file-level problems that stop it from being read."""

    columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    rows: tuple[MemberRow, ...] = ()
    problems: tuple[Message, ...] = ()


def normalise_header(name: str) -> str:
    """Lower-cased, without accents, spaces, dots, dashes or underscores: 'Prénom' -> 'prenom'."""
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return re.sub(r"[\s_.\-]+", "", text.lower())


_ALIASES = {normalise_header(alias): key for key, names in COLUMNS.items() for alias in names}


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(
            message(N_("This is a spreadsheet file, not CSV. In Excel, save it as “CSV (;)”."))
        )
    # NUL bytes never occur in text files; UTF-16 exports are full of them.
    if b"\x00" in data[:4096]:
        raise ImportFileError(message(N_("This does not look like a CSV file.")))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise ImportFileError(message(N_("This does not look like a CSV file."))) from error
    controls = sum(1 for char in text[:4096] if ord(char) < 32 and char not in "\t\r\n")
    if controls:
        raise ImportFileError(message(N_("This does not look like a CSV file.")))
    if not text.strip():
        raise ImportFileError(message(N_("The file is empty.")))
    return text


def sniff_separator(header_line: str) -> str:
    """`;` (Excel in Belgium and the Netherlands) or `,`, whichever the header uses more."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def map_columns(header: Sequence[str]) -> tuple[dict[str, int], list[str], list[Message]]:
    """Field -> column index, the columns not used, and problems (missing or repeated columns)."""
    mapping: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[Message] = []
    for index, name in enumerate(header):
        key = _ALIASES.get(normalise_header(name))
        if key is None:
            if name.strip():
                ignored.append(name.strip())
        elif key in mapping:
            problems.append(message(N_("The column “%(column)s” appears twice."), column=name))
        else:
            mapping[key] = index
    missing = [key for key in REQUIRED_COLUMNS if key not in mapping]
    if missing:
        problems.append(
            message(
                N_("Required columns are missing: %(missing)s. Columns found: %(found)s."),
                missing="; ".join(" / ".join(COLUMNS[key][:3]) for key in missing),
                found=_shown_columns(header),
            )
        )
    return mapping, ignored, problems


def _shown_columns(header: Sequence[str]) -> str:
    """The header as found, shortened: a text file that is not a member list can be anything."""
    names = [f"“{name.strip()[:40]}”" for name in header if name.strip()]
    return ", ".join(names[:20]) + (", …" if len(names) > 20 else "") if names else "-"


def parse_birth_date(text: str, *, line: int, today: date) -> tuple[date | None, Message | None]:
    """A birth date in one of the accepted formats, or the reason it is refused."""
    value = text.strip()
    if not value:
        return None, message(N_("Row %(row)s: the birth date is missing."), row=line)
    iso = _ISO_DATE.fullmatch(value)
    local = _LOCAL_DATE.fullmatch(value)
    if iso:
        parts = (int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    elif local:
        parts = (int(local.group(4)), int(local.group(3)), int(local.group(1)))
    else:
        return None, message(
            N_("Row %(row)s: “%(value)s” is not a date; write it as DD/MM/YYYY or YYYY-MM-DD."),
            row=line,
            value=value,
        )
    try:
        born = date(*parts)
    except ValueError:
        return None, message(
            N_("Row %(row)s: the date “%(value)s” does not exist."), row=line, value=value
        )
    if born > today:
        return None, message(
            N_("Row %(row)s: the birth date “%(value)s” is in the future."), row=line, value=value
        )
    if born < years_after(day=today, years=-MAX_AGE_YEARS):
        return None, message(
            N_("Row %(row)s: the birth date “%(value)s” is more than 25 years ago."),
            row=line,
            value=value,
        )
    return born, None


def split_groups(text: str) -> tuple[str, ...]:
    """Group names separated by `|`, trimmed, without blanks or repeats (ignoring case)."""
    seen: dict[str, str] = {}
    for part in text.split("|"):
        name = " ".join(part.split())
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return tuple(seen.values())


def _cell(values: Sequence[str], mapping: Mapping[str, int], key: str) -> str:
    index = mapping.get(key)
    return values[index].strip() if index is not None and index < len(values) else ""


def parse_guardian(
    values: Sequence[str], mapping: Mapping[str, int], n: int, *, line: int
) -> tuple[GuardianRow | None, list[Message]]:
    """Guardian 1 or 2 of a row; guardian 2 may be left blank altogether."""
    name, email, phone, language = (
        _cell(values, mapping, f"guardian{n}_{part}")
        for part in ("name", "email", "phone", "language")
    )
    if n == 2 and not (name or email or phone or language):
        return None, []
    errors: list[Message] = []
    if not email:
        errors.append(
            message(
                N_("Row %(row)s: the e-mail address of guardian %(n)s is missing."), row=line, n=n
            )
        )
    elif not _EMAIL.fullmatch(email) or len(email) > 254:
        errors.append(
            message(
                N_("Row %(row)s: “%(value)s” is not a valid e-mail address (guardian %(n)s)."),
                row=line,
                value=email,
                n=n,
            )
        )
    if language and language.lower() not in LANGUAGES:
        errors.append(
            message(
                N_("Row %(row)s: the language “%(value)s” is not nl, fr or en."),
                row=line,
                value=language,
            )
        )
    if len(name) > 200 or len(phone) > 40:
        errors.append(
            message(N_("Row %(row)s: a guardian's name or phone number is too long."), row=line)
        )
    guardian = GuardianRow(
        name=name, email=email.lower(), phone=phone, language=language.lower() or None
    )
    return guardian, errors


def parse_row(
    values: Sequence[str], mapping: Mapping[str, int], *, line: int, today: date
) -> MemberRow:
    """One data row, checked on its own (duplicates across rows are found by `parse`)."""
    errors: list[Message] = []
    first, last = _cell(values, mapping, "first_name"), _cell(values, mapping, "last_name")
    if not first:
        errors.append(message(N_("Row %(row)s: the first name is missing."), row=line))
    if not last:
        errors.append(message(N_("Row %(row)s: the last name is missing."), row=line))
    birth_text = _cell(values, mapping, "birth_date")
    born, problem = parse_birth_date(birth_text, line=line, today=today)
    errors.extend([problem] if problem else [])
    external_id = _cell(values, mapping, "external_id") or None
    groups = split_groups(_cell(values, mapping, "groups")) if "groups" in mapping else None
    texts = {"first_name": first, "last_name": last, "external_id": external_id or ""}
    if any(len(texts[key]) > limit for key, limit in _MAX_LENGTHS.items()) or any(
        len(name) > 120 for name in groups or ()
    ):
        errors.append(
            message(N_("Row %(row)s: a name, group or member number is too long."), row=line)
        )
    guardians: list[GuardianRow] = []
    for n in (1, 2):
        guardian, guardian_errors = parse_guardian(values, mapping, n, line=line)
        errors.extend(guardian_errors)
        # The same person twice on one row is one guardian, not an error.
        if guardian and all(g.email != guardian.email for g in guardians):
            guardians.append(guardian)
    return MemberRow(
        line=line,
        first_name=first,
        last_name=last,
        birth_date=born,
        birth_date_text=birth_text,
        external_id=external_id,
        groups=groups,
        guardians=tuple(guardians),
        errors=tuple(errors),
    )


def name_key(first_name: str, last_name: str, birth_date: date | None) -> tuple[str, str, str]:
    """How a child without a member number is recognised: names ignoring case and spacing."""
    return (
        " ".join(first_name.split()).casefold(),
        " ".join(last_name.split()).casefold(),
        birth_date.isoformat() if birth_date else "",
    )


def mark_duplicates(rows: Sequence[MemberRow]) -> list[MemberRow]:
    """Refuse the later copies of a child that appears twice (same member number or same person)."""
    by_id: dict[str, int] = {}
    by_name: dict[tuple[str, str, str], MemberRow] = {}
    result: list[MemberRow] = []
    for row in rows:
        problems: list[Message] = []
        if row.external_id:
            first = by_id.setdefault(row.external_id.casefold(), row.line)
            if first != row.line:
                problems.append(
                    message(
                        N_("Row %(row)s: the same member number as row %(first)s."),
                        row=row.line,
                        first=first,
                    )
                )
        key = name_key(row.first_name, row.last_name, row.birth_date)
        earlier = by_name.setdefault(key, row)
        # Two different member numbers are two people, even with the same name and birthday.
        distinct_ids = (
            earlier.external_id and row.external_id and earlier.external_id != row.external_id
        )
        complete = row.first_name and row.last_name and row.birth_date
        if earlier is not row and complete and not distinct_ids and not problems:
            problems.append(
                message(
                    N_("Row %(row)s: the same child as row %(first)s."),
                    row=row.line,
                    first=earlier.line,
                )
            )
        result.append(replace(row, errors=row.errors + tuple(problems)) if problems else row)
    return result


def _records(text: str) -> Iterator[list[str]]:
    first_line, _, rest = text.partition("\n")
    hint = first_line.strip().lower()
    # Excel understands (and some tools write) a first line "sep=;" that names the separator.
    if hint.startswith("sep=") and len(hint) == 5:
        text, separator = rest, hint[4]
    else:
        separator = sniff_separator(first_line)
    # newline="": quoted cells may hold line breaks (addresses, notes) and stay one record.
    return csv.reader(io.StringIO(text, newline=""), delimiter=separator)


def parse(data: bytes, *, today: date) -> ParsedFile:
    """Read an uploaded file; file-level problems leave `rows` empty."""
    if len(data) > MAX_BYTES:
        return ParsedFile(problems=(message(N_("The file is larger than 2 MB.")),))
    try:
        text = decode(data)
        records = list(_records(text))
    except ImportFileError as error:
        return ParsedFile(problems=(error.problem,))
    except csv.Error:
        return ParsedFile(problems=(message(N_("This does not look like a CSV file.")),))
    header, body = records[0], records[1:]
    mapping, ignored, problems = map_columns(header)
    found = tuple(name.strip() for name in header if name.strip())
    if problems:
        return ParsedFile(columns=found, problems=tuple(problems))
    numbered = [
        (line, values)
        for line, values in enumerate(body, start=2)
        if any(v.strip() for v in values)
    ]
    if not numbered:
        return ParsedFile(
            columns=found, problems=(message(N_("The file has column names but no members.")),)
        )
    if len(numbered) > MAX_ROWS:
        return ParsedFile(
            columns=found,
            problems=(
                message(
                    N_("The file has %(count)s rows; at most %(max)s can be imported at once."),
                    count=len(numbered),
                    max=MAX_ROWS,
                ),
            ),
        )
    rows = [parse_row(values, mapping, line=line, today=today) for line, values in numbered]
    return ParsedFile(
        columns=found,
        ignored_columns=tuple(ignored),
        rows=tuple(mark_duplicates(rows)),
    )
