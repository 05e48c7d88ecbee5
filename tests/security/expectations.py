"""Who may use each route: the declared half of the authorisation matrix.

Every (method, path) the application serves must have an entry here, and every entry must be a
route the application serves; test_matrix.py checks both. An entry names who may use the route
(one of the access categories below), and how to call it: query, form, files or JSON built from
the ids the caller is given (its own, or one replaced by someone else's).

Access categories (issue 10 §1):
- PUBLIC: anyone, signed in or not (the way in, health, static files, the language switch).
- ACCOUNT: a session opened with a password (guardian, staff or admin); never a session opened by
  a personal link or printed code, never anonymous. Changing the password lives here.
- GUARDIAN: a guardian signed in with a password, for their own family only (home, gallery).
- CONSENT: answering consent, for the children of the guardian or of the link only: a password
  guardian, or a session opened by a personal link/code (the /consent pages).
- GALLERY_VIEWER: the gallery's image and download routes, which serve the club's staff too.
- STAFF: staff and admins, for their own organisation only.
- ADMIN: admins, for their own organisation only.
- API_SIGNED_IN / API_STAFF: the JSON API under /api/v1, with a bearer token only (never the
  session cookie); any account, or staff and admins of their own organisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.factories import PASSWORD
from tests.security.world import import_csv, jpeg, png

Ids = dict[str, Any]
Build = Callable[[Ids], Any]

_STAFF = frozenset({"staff_1", "admin_1", "staff_2", "admin_2"})
_ADMINS = frozenset({"admin_1", "admin_2"})
_PASSWORD_GUARDIANS = frozenset({"guardian_a", "guardian_b"})
_EVERYONE = frozenset({"anonymous", "guardian_link", *_PASSWORD_GUARDIANS, *_STAFF})


@dataclass(frozen=True)
class Access:
    name: str
    roles: frozenset[str]
    api: bool = False  # a bearer token, not the session cookie

    @property
    def public(self) -> bool:
        return self.roles == _EVERYONE

    def __repr__(self) -> str:
        return self.name


PUBLIC = Access("PUBLIC", _EVERYONE)
ACCOUNT = Access("ACCOUNT", _PASSWORD_GUARDIANS | _STAFF)
GUARDIAN = Access("GUARDIAN", _PASSWORD_GUARDIANS)
CONSENT = Access("CONSENT", _PASSWORD_GUARDIANS | {"guardian_link"})
GALLERY_VIEWER = Access("GALLERY_VIEWER", _PASSWORD_GUARDIANS | _STAFF)
STAFF = Access("STAFF", _STAFF)
ADMIN = Access("ADMIN", _ADMINS)
API_SIGNED_IN = Access("API_SIGNED_IN", _PASSWORD_GUARDIANS | _STAFF, api=True)
API_STAFF = Access("API_STAFF", _STAFF, api=True)
API_PUBLIC = Access("PUBLIC", _EVERYONE, api=True)

# Someone else's id in a form or a filter: refused, or (filters) simply not applied.
BODY_REFUSED = frozenset({400, 403, 404, 409, 422})
FILTER_IGNORED = BODY_REFUSED | {200}


@dataclass(frozen=True)
class Rule:
    access: Access
    query: Build | None = None
    form: Build | None = None
    files: Build | None = None
    json: Build | None = None
    # Ids used in the query or body: each gets a cell with someone else's id in its place.
    body_ids: tuple[str, ...] = ()
    foreign_body: frozenset[int] = BODY_REFUSED
    probe: str | None = None  # a concrete URL, for mounts
    csrf: bool = True  # forms carry the session's token (never the API)


def r(access: Access, **kwargs: Any) -> Rule:
    return Rule(access, **kwargs)


NEW_PASSWORD = "a-brand-new-password-42"
NOT_AN_IMAGE = b"this is not an image"


def _child_fields(first: str, last: str, born: str) -> Build:
    return lambda i: {
        "first_name": first,
        "last_name": last,
        "birth_date": born,
        "group_ids": [str(i["group_id"])],
    }


def _answers(extra: dict[str, str] | None = None, *, narrowed: bool = False) -> Build:
    return lambda i: {
        f"c{i['child_id']}-website": "no",
        **({"child": str(i["child_id"])} if narrowed else {}),
        **(extra or {}),
    }


def _one_child(i: Ids) -> dict[str, str]:
    return {"child": str(i["child_id"])}


def _photo_file(name: str, seed: int) -> Build:
    return lambda i: {name: (f"new-{seed}.jpg", jpeg(seed), "image/jpeg")}


TABLE: dict[tuple[str, str], Rule] = {
    # --- the way in, and what anyone may fetch -------------------------------------------------
    ("GET", "/api/v1/openapi.json"): r(API_PUBLIC),
    ("HEAD", "/api/v1/openapi.json"): r(API_PUBLIC),
    ("GET", "/static"): r(PUBLIC, probe="/static/css/app.css"),
    ("GET", "/"): r(PUBLIC),
    ("GET", "/healthz"): r(PUBLIC),
    ("GET", "/lang/{locale}"): r(PUBLIC, query=lambda i: {"next": "/"}),
    ("GET", "/login"): r(PUBLIC),
    ("POST", "/login"): r(
        PUBLIC,
        form=lambda i: {
            "email": "nobody@example.test",
            "password": "not-the-password",
            "next": "/",
        },
    ),
    ("POST", "/logout"): r(PUBLIC),
    ("POST", "/api/v1/auth/token"): r(
        API_PUBLIC,
        form=lambda i: {"username": "nobody@example.test", "password": "not-the-password"},
    ),
    ("GET", "/c/{token}"): r(PUBLIC),
    ("GET", "/code"): r(PUBLIC),
    ("POST", "/code"): r(PUBLIC, form=lambda i: {"code": "ZZZZ-ZZZZ"}),
    # A reset link is mailed to the account's own address; the page itself is open to anyone.
    ("GET", "/password/forgot"): r(PUBLIC),
    ("POST", "/password/forgot"): r(PUBLIC, form=lambda i: {"email": "nobody@example.test"}),
    ("GET", "/password/reset/{token}"): r(PUBLIC),
    ("POST", "/password/reset/{token}"): r(
        PUBLIC, form=lambda i: {"password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    ),
    # An account holder's answer to a club that asked to link them (the link came by e-mail).
    ("GET", "/guardian-requests/{token}"): r(PUBLIC),
    ("POST", "/guardian-requests/{token}"): r(PUBLIC, form=lambda i: {"decision": "decline"}),
    ("POST", "/api/v1/auth/token/revoke"): r(API_SIGNED_IN),
    # --- the account: a password session only ---------------------------------------------------
    ("GET", "/account/password"): r(ACCOUNT),
    ("POST", "/account/password"): r(
        ACCOUNT,
        form=lambda i: {
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "repeat": NEW_PASSWORD,
        },
    ),
    # --- families -------------------------------------------------------------------------------
    ("GET", "/family"): r(GUARDIAN),
    # ?child= narrows the page to one child (from the family home): another family's is a 404.
    ("GET", "/consent"): r(CONSENT, query=_one_child, body_ids=("child_id",)),
    ("POST", "/consent/review"): r(
        CONSENT, form=_answers({}, narrowed=True), body_ids=("child_id",)
    ),
    ("POST", "/consent/confirm"): r(
        CONSENT, form=_answers({"action": "save"}, narrowed=True), body_ids=("child_id",)
    ),
    ("GET", "/consent/done"): r(CONSENT),
    ("GET", "/consent/history"): r(CONSENT, query=_one_child, body_ids=("child_id",)),
    # The form prints a fresh personal link: a link session may not mint the next one.
    ("GET", "/consent/children/{child_id}/form.pdf"): r(GUARDIAN),
    ("POST", "/consent/password-link"): r(CONSENT),
    ("GET", "/gallery"): r(GUARDIAN),
    ("GET", "/gallery/mine"): r(GUARDIAN),
    ("GET", "/gallery/events/{event_id}"): r(GUARDIAN),
    ("GET", "/gallery/photos/{photo_id}"): r(GUARDIAN),
    ("POST", "/gallery/photos/{photo_id}/removal"): r(
        GUARDIAN, form=lambda i: {"message": "Please take it down."}
    ),
    ("GET", "/gallery/photos/{photo_id}/image"): r(
        GALLERY_VIEWER, query=lambda i: {"size": "thumb"}
    ),
    ("GET", "/gallery/photos/{photo_id}/download"): r(GALLERY_VIEWER),
    # --- staff: people ----------------------------------------------------------------------------
    ("GET", "/admin"): r(STAFF),
    ("GET", "/staff/groups"): r(STAFF),
    ("POST", "/staff/groups"): r(STAFF, form=lambda i: {"name": "Team Newgroup"}),
    ("GET", "/staff/groups/{group_id}/edit"): r(STAFF),
    ("POST", "/staff/groups/{group_id}/edit"): r(STAFF, form=lambda i: {"name": "Team Renamed"}),
    ("POST", "/staff/groups/{group_id}/archive"): r(STAFF),
    ("POST", "/staff/groups/{group_id}/restore"): r(STAFF),
    ("GET", "/staff/children"): r(
        STAFF,
        query=lambda i: {"group": str(i["group_id"])},
        body_ids=("group_id",),
        foreign_body=FILTER_IGNORED,
    ),
    ("GET", "/staff/children/new"): r(STAFF),
    ("POST", "/staff/children/new"): r(
        STAFF, form=_child_fields("Nova", "Added", "2015-04-03"), body_ids=("group_id",)
    ),
    ("GET", "/staff/children/{child_id}/edit"): r(STAFF),
    ("POST", "/staff/children/{child_id}/edit"): r(
        STAFF, form=_child_fields("Arlo", "Renamed", "2013-05-01"), body_ids=("group_id",)
    ),
    ("POST", "/staff/children/{child_id}/guardians"): r(
        STAFF,
        form=lambda i: {
            "full_name": "Nina Newparent",
            "email": "nina.newparent@example.test",
            "relation": "parent",
            "locale": "en",
        },
    ),
    ("POST", "/staff/children/{child_id}/guardians/{guardian_id}/remove"): r(STAFF),
    ("POST", "/staff/children/{child_id}/archive"): r(STAFF),
    ("POST", "/staff/children/{child_id}/restore"): r(STAFF),
    ("POST", "/staff/children/{child_id}/protect"): r(
        ADMIN, form=lambda i: {"reason": "Court order", "confirmed": "yes"}
    ),
    ("POST", "/staff/children/{child_id}/unprotect"): r(ADMIN, form=lambda i: {"confirmed": "yes"}),
    ("GET", "/staff/guardians"): r(STAFF),
    ("GET", "/staff/guardians/{guardian_id}/edit"): r(STAFF),
    ("POST", "/staff/guardians/{guardian_id}/edit"): r(
        STAFF,
        form=lambda i: {"full_name": "Alma Renamed", "email": i["guardian_email"], "locale": "en"},
    ),
    ("POST", "/staff/guardians/{guardian_id}/archive"): r(STAFF),
    ("GET", "/staff/import"): r(STAFF),
    ("GET", "/staff/import/example.csv"): r(STAFF),
    ("POST", "/staff/import/preview"): r(
        STAFF, files=lambda i: {"file": ("members.csv", import_csv("Previewed", "Pia"), "text/csv")}
    ),
    ("POST", "/staff/import/confirm"): r(
        STAFF, form=lambda i: {"token": i["import_pending"]}, body_ids=("import_pending",)
    ),
    ("GET", "/staff/import/done"): r(
        STAFF, query=lambda i: {"token": i["import_done"]}, body_ids=("import_done",)
    ),
    # --- staff: consent -------------------------------------------------------------------------
    ("GET", "/staff/groups/{group_id}/consents"): r(STAFF),
    ("POST", "/staff/groups/{group_id}/invite"): r(STAFF, form=lambda i: {"who": "all"}),
    ("GET", "/staff/children/{child_id}"): r(STAFF),
    ("POST", "/staff/children/{child_id}/invite"): r(
        STAFF, form=lambda i: {"guardian_id": str(i["guardian_id"])}, body_ids=("guardian_id",)
    ),
    ("POST", "/staff/children/{child_id}/child-link"): r(STAFF),
    ("POST", "/staff/links/{link_id}/revoke"): r(STAFF),
    ("GET", "/staff/children/{child_id}/paper"): r(STAFF),
    ("POST", "/staff/children/{child_id}/paper"): r(
        STAFF,
        form=lambda i: {
            "signer": str(i["guardian_id"]),
            "signed_on": "2026-11-20",
            "use-website": "yes",
        },
        files=lambda i: {"scan": ("scan.png", png(7), "image/png")},
        body_ids=("guardian_id",),
    ),
    ("GET", "/staff/evidence/{decision_id}"): r(STAFF),
    ("GET", "/staff/season"): r(ADMIN),
    ("POST", "/staff/season"): r(ADMIN, form=lambda i: {"new_end": "2028-06-30", "send": ""}),
    # --- staff: forms ---------------------------------------------------------------------------
    ("GET", "/staff/children/{child_id}/form.pdf"): r(STAFF),
    ("GET", "/staff/groups/{group_id}/forms.pdf"): r(STAFF),
    ("GET", "/staff/forms/blank.pdf"): r(STAFF),
    ("GET", "/staff/settings/forms"): r(ADMIN),
    ("POST", "/staff/settings/forms"): r(
        ADMIN,
        form=lambda i: {
            "page_size": "A4",
            "privacy_controller": "The club",
            "privacy_contact_email": "privacy@example.test",
        },
    ),
    # --- staff: photos --------------------------------------------------------------------------
    ("GET", "/staff/events"): r(STAFF),
    ("POST", "/staff/events"): r(
        STAFF,
        form=lambda i: {
            "name": "Cup Newevent",
            "event_date": "2026-12-05",
            "group_ids": [str(i["group_id"])],
        },
        body_ids=("group_id",),
    ),
    ("GET", "/staff/events/{event_id}"): r(STAFF),
    ("POST", "/staff/events/{event_id}/photos"): r(STAFF, files=_photo_file("files", 901)),
    ("GET", "/staff/events/{event_id}/progress"): r(STAFF),
    ("POST", "/staff/photos/{photo_id}/retry"): r(STAFF),
    ("GET", "/staff/photos/{photo_id}"): r(STAFF),
    ("GET", "/staff/photos/{photo_id}/image"): r(
        STAFF, query=lambda i: {"use": "internal_gallery", "size": "thumb"}
    ),
    ("POST", "/staff/photos/{photo_id}/faces/{face_id}"): r(
        STAFF,
        form=lambda i: {
            "correction": "name",
            "state": "unknown",
            "child_id": str(i["child_id"]),
        },
        body_ids=("child_id",),
    ),
    ("GET", "/staff/events/{event_id}/review"): r(STAFF),
    ("POST", "/staff/events/{event_id}/review"): r(
        STAFF,
        form=lambda i: {
            "choice": "child",
            "face_ids": [str(i["face_id"])],
            "child_id": str(i["child_id"]),
        },
        body_ids=("face_id", "child_id"),
    ),
    ("GET", "/staff/faces/{face_id}/crop"): r(STAFF),
    ("POST", "/staff/children/{child_id}/reference-photos"): r(
        STAFF, files=lambda i: {"file": ("face.jpg", NOT_AN_IMAGE, "image/jpeg")}
    ),
    ("POST", "/staff/children/{child_id}/reference-photos/delete"): r(
        STAFF, form=lambda i: {"confirm": "yes"}
    ),
    ("GET", "/staff/gallery"): r(
        STAFF,
        query=lambda i: {
            "group": str(i["group_id"]),
            "event": str(i["event_id"]),
            "child": str(i["child_id"]),
        },
        body_ids=("group_id", "event_id", "child_id"),
        foreign_body=FILTER_IGNORED,
    ),
    ("GET", "/staff/removal-requests"): r(STAFF),
    ("POST", "/staff/removal-requests/{request_id}"): r(
        STAFF, form=lambda i: {"outcome": "declined", "reason": "Team photo"}
    ),
    ("POST", "/staff/photos/{photo_id}/hide"): r(STAFF),
    ("POST", "/staff/photos/{photo_id}/show"): r(STAFF),
    ("GET", "/staff/publish"): r(
        STAFF,
        query=lambda i: {"event": str(i["event_id"]), "photo": [str(i["photo_id"])]},
        body_ids=("event_id", "photo_id"),
        foreign_body=FILTER_IGNORED,
    ),
    ("POST", "/staff/publish"): r(
        STAFF,
        form=lambda i: {
            "use": "website",
            "size": "thumb",
            "title": "Web",
            "photo": [str(i["photo_id"])],
        },
        body_ids=("photo_id",),
    ),
    # Only a redirect to the publish page (GET above) with the choices as its query.
    ("POST", "/staff/publish/preview"): r(
        STAFF, form=lambda i: {"use": "social_media", "event": str(i["event_id"])}
    ),
    ("GET", "/staff/publications"): r(STAFF),
    ("GET", "/staff/takedowns"): r(STAFF),
    ("POST", "/staff/takedowns/{published_id}"): r(STAFF),
    ("GET", "/admin/photo-settings"): r(ADMIN),
    # The secretary's spreadsheets and the club-wide list behind the admin home's counts.
    ("GET", "/admin/exports"): r(ADMIN),
    ("GET", "/admin/exports/consents"): r(ADMIN, query=lambda i: {"format": "csv"}),
    ("GET", "/admin/exports/members"): r(ADMIN, query=lambda i: {"format": "xlsx"}),
    ("GET", "/staff/consents"): r(STAFF, query=lambda i: {"state": "unanswered"}),
    # The club's staff accounts (never yourself, never the last admin: both are refused 400).
    ("GET", "/admin/staff"): r(ADMIN),
    ("POST", "/admin/staff"): r(
        ADMIN,
        form=lambda i: {"email": "new.coach@example.test", "full_name": "New", "role": "staff"},
    ),
    ("POST", "/admin/staff/{user_id}/role"): r(ADMIN, form=lambda i: {"role": "admin"}),
    ("POST", "/admin/staff/{user_id}/remove"): r(ADMIN),
    # An invitation to an existing account came to its own address; only that account, signed in
    # with its own password, may accept (anyone else gets the page back, nothing changes).
    ("GET", "/staff-invitations/{token}"): r(PUBLIC),
    ("POST", "/staff-invitations/{token}"): r(PUBLIC),
    ("GET", "/admin/rules"): r(ADMIN),
    ("POST", "/admin/rules"): r(
        ADMIN,
        form=lambda i: {
            "co_consent_age": "12",
            "sole_consent_age": "16",
            "require_all_guardians": "yes",
            **{f"action_{code}": "blur" for code in ("internal_gallery", "website", "print")},
            **{f"action_{code}": "hide" for code in ("social_media", "press")},
        },
    ),
    # Deleting by hand: a confirmation page, then the deletion. Posted here without the
    # confirmation (back to the page): files go after commit, and a cell's rollback would not
    # bring them back for the cells after it. tests/publishing/test_deletions.py deletes.
    ("GET", "/admin/photos/{photo_id}/delete"): r(ADMIN),
    ("POST", "/admin/photos/{photo_id}/delete"): r(ADMIN),
    ("GET", "/admin/events/{event_id}/delete"): r(ADMIN),
    ("POST", "/admin/events/{event_id}/delete"): r(ADMIN),
    # Installation-wide, read-only: any organisation's admin (one club per server by default).
    ("GET", "/admin/backups"): r(ADMIN),
    ("POST", "/admin/photo-settings"): r(
        ADMIN, form=lambda i: {"retention_months": "24", "watermark": ""}
    ),
    # --- the JSON API: bearer tokens only ---------------------------------------------------------
    ("GET", "/api/v1/me"): r(API_SIGNED_IN),
    ("GET", "/api/v1/organisation"): r(API_STAFF),
    ("GET", "/api/v1/children"): r(
        API_STAFF, query=lambda i: {"group_id": str(i["group_id"])}, body_ids=("group_id",)
    ),
    ("POST", "/api/v1/children"): r(
        API_STAFF,
        json=lambda i: {
            "first_name": "Nova",
            "last_name": "Added",
            "birth_date": "2015-04-03",
            "group_ids": [i["group_id"]],
            "guardians": [],
        },
        body_ids=("group_id",),
    ),
    ("GET", "/api/v1/children/{child_id}"): r(API_STAFF),
    ("GET", "/api/v1/children/{child_id}/consents"): r(API_STAFF),
    ("POST", "/api/v1/children/{child_id}/consents"): r(
        API_STAFF,
        json=lambda i: {"use": "website", "decision": "refused", "guardian_id": i["guardian_id"]},
        body_ids=("guardian_id",),
    ),
    ("POST", "/api/v1/events"): r(
        API_STAFF,
        json=lambda i: {"name": "Cup Apievent", "date": "2026-12-05", "group_ids": [i["group_id"]]},
        body_ids=("group_id",),
    ),
    ("GET", "/api/v1/events/{event_id}"): r(API_STAFF),
    ("POST", "/api/v1/events/{event_id}/photos"): r(API_STAFF, files=_photo_file("files", 902)),
    ("GET", "/api/v1/photos/{photo_id}"): r(API_STAFF),
    ("GET", "/api/v1/photos/{photo_id}/image"): r(
        API_STAFF, query=lambda i: {"use": "internal_gallery", "size": "thumb"}
    ),
    ("POST", "/api/v1/children/{child_id}/reference-photos"): r(
        API_STAFF, files=lambda i: {"file": ("face.jpg", NOT_AN_IMAGE, "image/jpeg")}
    ),
}
