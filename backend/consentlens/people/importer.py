"""Reading a member export (CSV) into checked rows: pure, no database and no I/O.

This module reads the file (encoding, separator, header); each row is read by `import_rows.py`.
File-level problems are `Message`s too, so pages can show them in the reader's language.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from consentlens.core.i18n import N_
from consentlens.people.import_rows import MemberRow, Message, mark_duplicates, message, parse_row

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000

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


class ImportFileError(ValueError):
    """The file as a whole cannot be read; carries the message to show."""

    def __init__(self, problem: Message) -> None:
        super().__init__(problem.msgid)
        self.problem = problem


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


def parse(*, data: bytes, today: date) -> ParsedFile:
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
    rows = [
        parse_row(values=values, mapping=mapping, line=line, today=today)
        for line, values in numbered
    ]
    return ParsedFile(
        columns=found,
        ignored_columns=tuple(ignored),
        rows=tuple(mark_duplicates(rows)),
    )
