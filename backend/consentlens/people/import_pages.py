"""Staff pages to import members from a CSV export (upload, preview, confirm).

Between preview and confirm the uploaded file waits on disk under var/imports; the confirm form
carries a signed token naming the file and the organisation it was uploaded for. That hand-over
between two requests is a form concern, so it lives here; planning and applying is the service's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from uuid import uuid4

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff
from consentlens.core.config import get_settings
from consentlens.core.db import SessionDep
from consentlens.core.files import private_dir, write_private
from consentlens.core.i18n import N_
from consentlens.core.pages import see_other
from consentlens.core.templating import render, request_locale
from consentlens.organisations.models import Organisation
from consentlens.people import import_apply
from consentlens.people import import_service as service
from consentlens.people.import_apply import ImportResult
from consentlens.people.import_rows import Message, message
from consentlens.people.importer import COLUMNS, MAX_BYTES, REQUIRED_COLUMNS
from consentlens.people.page_helpers import CSRF

router = APIRouter(tags=["pages"], include_in_schema=False)

TOKEN_MAX_AGE_SECONDS = 3600
RESULT_MAX_AGE_SECONDS = 24 * 3600
_FILE_ID = re.compile(r"[0-9a-f]{32}")
_INVALID = N_("This import link is not valid. Upload the file again.")

# What each column holds, for the upload page (the accepted names come from the importer).
_COLUMN_HELP = {
    "external_id": N_("Member number: recognises the child in later imports."),
    "first_name": N_("The child's first name."),
    "last_name": N_("The child's last name."),
    "birth_date": N_("DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY or YYYY-MM-DD."),
    "groups": N_("Team or class; separate several with |. New groups are created."),
    "guardian1_name": N_("Name of the first parent or guardian."),
    "guardian1_email": N_("Their e-mail address; an existing account is recognised by it."),
    "guardian1_phone": N_("Their phone number."),
    "guardian1_language": N_("Their language: nl, fr or en."),
}
# One row per child, cells as in `COLUMNS` order.
_EXAMPLE_ROWS = (
    "1001;Lotte;Peeters;14/03/2016;U10;Ann Peeters;ann@example.be;;nl;"
    "Bart Peeters;bart@example.be;+32 470 12 34 56;nl",
    "1002;Émile;Dubois;02/11/2013;U14|Keepers;Claire Dubois;claire.dubois@example.be;;fr;;;;",
)


class ImportTokenError(Exception):
    """The token of a confirm form or result link is not (or no longer) valid."""

    def __init__(self, problem: Message, *, foreign: bool = False) -> None:
        super().__init__(problem.msgid)
        self.problem = problem
        self.foreign = foreign  # valid, but signed for another organisation


@dataclass(frozen=True)
class PendingImport:
    file_id: str
    filename: str


def _folder() -> Path:
    return get_settings().var_dir / "imports"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().resolved_secret_key, salt="consentlens.import")


def _sweep(folder: Path) -> None:
    """Forget uploads never confirmed and results nobody came back for."""
    now = time.time()
    for path in folder.iterdir():
        limit = RESULT_MAX_AGE_SECONDS if path.suffix == ".json" else TOKEN_MAX_AGE_SECONDS
        if now - path.stat().st_mtime > limit + 60:
            path.unlink(missing_ok=True)


def store_upload(*, organisation: Organisation, data: bytes, filename: str) -> str:
    """Keep an uploaded file for confirmation; returns the signed token that names it."""
    folder = private_dir(_folder())
    _sweep(folder)
    file_id = uuid4().hex
    # Names, birth dates and parents' addresses: owner-only.
    write_private(path=folder / f"{file_id}.csv", data=data)
    return _serializer().dumps({"file": file_id, "org": organisation.id, "name": filename[:200]})


def read_token(*, token: str, organisation: Organisation, max_age: int) -> PendingImport:
    """The upload a token names, if the token is valid and was signed for this organisation."""
    try:
        payload: Any = _serializer().loads(token, max_age=max_age)
    except SignatureExpired as error:
        expired = N_("This preview has expired. Upload the file again.")
        raise ImportTokenError(message(expired)) from error
    except BadSignature as error:
        raise ImportTokenError(message(_INVALID)) from error
    file_id = payload.get("file") if isinstance(payload, dict) else None
    if not isinstance(file_id, str) or not _FILE_ID.fullmatch(file_id):
        raise ImportTokenError(message(_INVALID))
    if payload.get("org") != organisation.id:
        foreign = N_("This import belongs to another organisation.")
        raise ImportTokenError(message(foreign), foreign=True)
    return PendingImport(file_id=file_id, filename=str(payload.get("name", "")))


def claim_upload(pending: PendingImport) -> bytes | None:
    """Take the stored file for confirming, once: a second click finds it gone and gets None."""
    folder = _folder()
    claimed = folder / f"{pending.file_id}.claimed"
    try:
        # rename is atomic: of two confirms sent at once, only one gets the file.
        os.rename(folder / f"{pending.file_id}.csv", claimed)
    except FileNotFoundError:
        return None
    return claimed.read_bytes()


def finish_upload(pending: PendingImport, result: ImportResult) -> None:
    """Replace the stored file by a summary of the result, for the page after the redirect."""
    skipped = [
        {
            "line": p.row.line,
            "name": p.row.full_name,
            "errors": [[e.msgid, e.params] for e in p.errors],
        }
        for p in result.skipped
    ]
    summary = {
        "filename": pending.filename,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "groups_created": list(result.groups_created),
        "accounts_created": result.accounts_created,
        "confirmations_requested": result.confirmations_requested,
        "groups_with_new_members": [list(g) for g in result.groups_with_new_members],
        "skipped": skipped,
    }
    write_private(
        path=_folder() / f"{pending.file_id}.json", data=json.dumps(summary).encode("utf-8")
    )
    (_folder() / f"{pending.file_id}.claimed").unlink(missing_ok=True)


def load_result(pending: PendingImport) -> dict[str, Any] | None:
    """The summary of a confirmed import, or None when there is none (any more)."""
    path = _folder() / f"{pending.file_id}.json"
    if not path.exists():
        return None
    summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for row in summary["skipped"]:
        row["errors"] = [Message(msgid, params) for msgid, params in row["errors"]]
    return summary


def _upload_form(request: Request, problems: list[Message], status_code: int = 200) -> Response:
    columns = [
        (key, COLUMNS[key][:3], _COLUMN_HELP[key], key in REQUIRED_COLUMNS) for key in _COLUMN_HELP
    ]
    return render(
        request,
        "people/import_upload.html",
        status_code=status_code,
        problems=problems,
        columns=columns,
        max_megabytes=MAX_BYTES // (1024 * 1024),
    )


@router.get("/staff/import")
def upload_page(request: Request, principal: CurrentStaff) -> Response:
    return _upload_form(request, [])


@router.get("/staff/import/example.csv")
def example_csv(request: Request, principal: CurrentStaff) -> Response:
    """An example file with the column names in the reader's language, as Excel saves it."""
    language = {"en": 0, "nl": 1, "fr": 2}[request_locale(request)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([names[language] for names in COLUMNS.values()])
    writer.writerows(row.split(";") for row in _EXAMPLE_ROWS)
    # A BOM, so that Excel opens the accents as UTF-8 rather than guessing Windows-1252.
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="consentlens-members.csv"'},
    )


@router.post("/staff/import/preview", dependencies=CSRF)
def preview(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    data = file.file.read(MAX_BYTES + 1) if file is not None else b""
    if file is None or (not file.filename and not data):
        return _upload_form(request, [message(N_("Choose a CSV file to upload."))], 400)
    organisation = principal.organisation
    parsed = service.parse_upload(organisation=organisation, data=data)
    if parsed.problems:
        return _upload_form(request, list(parsed.problems), 400)
    plan = service.plan_import(session=session, organisation=organisation, rows=parsed.rows)
    filename = file.filename or ""
    token = (
        store_upload(organisation=organisation, data=data, filename=filename)
        if plan.has_changes
        else ""
    )
    return render(
        request,
        "people/import_preview.html",
        Action=service.Action,
        plan=plan,
        parsed=parsed,
        filename=filename,
        token=token,
    )


@router.post("/staff/import/confirm", dependencies=CSRF)
def confirm(
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
    token: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    organisation = principal.organisation
    try:
        pending = read_token(token=token, organisation=organisation, max_age=TOKEN_MAX_AGE_SECONDS)
    except ImportTokenError as error:
        if error.foreign:
            raise HTTPException(403, error.problem.msgid) from error
        return _upload_form(request, [error.problem], 400)
    data = claim_upload(pending)
    if data is None:
        gone = N_("This file was already imported or has expired. Upload it again if needed.")
        return _upload_form(request, [message(gone)], 400)
    parsed = service.parse_upload(organisation=organisation, data=data)
    if parsed.problems:
        return _upload_form(request, list(parsed.problems), 400)
    # Planned again: the members may have changed since the preview.
    plan = service.plan_import(session=session, organisation=organisation, rows=parsed.rows)
    result = import_apply.apply_import(
        session=session,
        organisation=organisation,
        plan=plan,
        actor=principal.user,
        origin=origin_of(request),
    )
    finish_upload(pending, result)
    return see_other(f"/staff/import/done?token={quote(token)}")


@router.get("/staff/import/done")
def done(request: Request, principal: CurrentStaff, token: str = "") -> Response:
    try:
        pending = read_token(
            token=token, organisation=principal.organisation, max_age=RESULT_MAX_AGE_SECONDS
        )
    except ImportTokenError as error:
        raise HTTPException(403 if error.foreign else 404, error.problem.msgid) from error
    summary = load_result(pending)
    if summary is None:
        raise HTTPException(404, N_("This import summary is no longer available."))
    return render(request, "people/import_done.html", summary=summary)
