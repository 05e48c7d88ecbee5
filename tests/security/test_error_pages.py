"""Every refusal a signed-in person gets is a proper error page, never a 500 (issue 10 §2).

The error handlers run after the request's database session is closed; rendering the page reads
the signed-in principal's organisation and language, which crashed with DetachedInstanceError
(core/templating.request_locale). The shared `client` fixture never closes its session, so the
old role tests could not see it; these go through the production-like harness.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from consentlens.core import throttle
from tests.security.harness import send
from tests.security.world import World

Case = tuple[str, str, Callable[[World], str], int, str]

CASES: list[Case] = [
    ("staff on an admin page", "staff_1", lambda w: "/admin/photo-settings", 403, "No access"),
    ("guardian on a staff page", "guardian_a", lambda w: "/staff/children", 403, "No access"),
    (
        "guardian on another family's photo",
        "guardian_a",
        lambda w: f"/gallery/photos/{w.clubs[1].b.photo.id}",
        404,
        "Page not found",
    ),
    (
        "staff on another club's child",
        "staff_1",
        lambda w: f"/staff/children/{w.clubs[2].a.child.id}",
        404,
        "Page not found",
    ),
    (
        "admin on a child id that does not exist",
        "admin_2",
        lambda w: "/staff/children/987654321",
        404,
        "Page not found",
    ),
    (
        "staff on a page that does not exist",
        "staff_2",
        lambda w: "/no/such/page",
        404,
        "Page not found",
    ),
    ("a wrong method", "guardian_b", lambda w: "/logout", 405, "Not allowed"),
    (
        "an id that is not a number",
        "staff_1",
        lambda w: "/staff/children/abc",
        404,
        "Page not found",
    ),
    (
        "a link session on another family's form",
        "guardian_link",
        lambda w: f"/consent/children/{w.clubs[1].a.child.id}/form.pdf",
        403,
        "Sign in to see this page",
    ),
]


def _check_error_page(response: Any, status: int, title: str) -> None:
    assert response.status_code < 500, f"server error: {response.text[:300]}"
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    if title:
        assert title in response.text
    # The page is a normal page: same hardening headers as any other.
    assert response.headers.get("x-frame-options") == "DENY"


@pytest.mark.parametrize(
    ("role", "url", "status", "title"),
    [pytest.param(role, url, status, title, id=name) for name, role, url, status, title in CASES],
)
def test_a_refusal_for_a_signed_in_person_is_an_error_page(
    world: World, role: str, url: Callable[[World], str], status: int, title: str
) -> None:
    actor = world.actors[role]
    actor.restore()
    with world.harness.cell():
        response = send(actor.client, "GET", url(world))
    _check_error_page(response, status, title)


def test_the_image_throttle_answers_429_with_a_page(world: World, monkeypatch) -> None:
    monkeypatch.setattr(throttle, "_images", throttle.SlidingWindow(1, 60.0))
    actor = world.actors["guardian_a"]
    actor.restore()
    url = f"/gallery/photos/{world.clubs[1].a.photo.id}/image"
    with world.harness.cell():
        first = send(actor.client, "GET", url, params={"size": "thumb"})
        second = send(actor.client, "GET", url, params={"size": "thumb"})
    assert first.status_code == 200, first.text[:300]
    _check_error_page(second, 429, "Too many requests")
    assert second.headers.get("retry-after") == "60"


def test_a_refusal_to_someone_signed_out_still_answers(world: World) -> None:
    """The same pages for nobody signed in: a redirect to sign in or a page, never a crash."""
    actor = world.actors["anonymous"]
    actor.restore()
    for url in ("/admin/photo-settings", "/no/such/page", "/staff/children/abc"):
        with world.harness.cell():
            response = send(actor.client, "GET", url)
        assert response.status_code < 500, f"{url}: {response.text[:300]}"
