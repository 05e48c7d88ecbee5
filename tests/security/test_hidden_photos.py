"""A photo staff took down leaks nowhere: not in a gallery list, not by its image URLs, not in a
publication ZIP, and (hidden from one family) not to that family, through the real application."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.security.harness import send
from tests.security.world import Actor, World

IMAGE_URLS = (
    "/gallery/photos/{id}/image?size=thumb",
    "/gallery/photos/{id}/image?size=display",
    "/gallery/photos/{id}/download",
    "/gallery/photos/{id}",
)


def _post(actor: Actor, url: str, **data: str) -> int:
    response = send(actor.client, "POST", url, data={"csrf_token": actor.csrf, **data})
    return response.status_code


def _lists(world: World, actor: Actor, photo_id: int) -> list[str]:
    """The gallery pages of the guardian that list (or would list) the photo."""
    event_id = world.clubs[1].a.event.id  # type: ignore[union-attr]
    pages = ("/gallery", "/gallery/mine", f"/gallery/events/{event_id}")
    found = []
    for page in pages:
        response = send(actor.client, "GET", page)
        assert response.status_code == 200, (page, response.status_code)
        if f"/gallery/photos/{photo_id}" in response.text:
            found.append(page)
    return found


def _reachable(actor: Actor, photo_id: int) -> dict[str, int]:
    return {
        url: send(actor.client, "GET", url.format(id=photo_id)).status_code for url in IMAGE_URLS
    }


def _zip_photos(actor: Actor, photo_id: int) -> list[str]:
    response = send(
        actor.client,
        "POST",
        "/staff/publish",
        data={
            "csrf_token": actor.csrf,
            "use": "website",
            "size": "thumb",
            "title": "Web",
            "photo": [str(photo_id)],
        },
    )
    assert response.status_code == 200, response.status_code
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return [name for name in archive.namelist() if name.endswith(".jpg")]


@pytest.fixture
def actors(world: World) -> dict[str, Actor]:
    for actor in world.actors.values():
        actor.restore()
    return world.actors


def test_a_photo_hidden_from_everyone_is_listed_served_and_published_nowhere(world, actors):
    photo_id = world.clubs[1].a.photo.id
    guardian, staff = actors["guardian_a"], actors["staff_1"]
    with world.harness.cell():
        # Before: the guardian's gallery lists it and serves it, and it can be published.
        assert _lists(world, guardian, photo_id)
        assert set(_reachable(guardian, photo_id).values()) == {200}
        assert len(_zip_photos(staff, photo_id)) == 1

        assert _post(staff, f"/staff/photos/{photo_id}/hide") == 303
        assert _lists(world, guardian, photo_id) == []
        assert set(_reachable(guardian, photo_id).values()) == {404}
        assert _zip_photos(staff, photo_id) == []
        # Staff still see it, marked hidden, and can look at it before undoing.
        page = send(staff.client, "GET", f"/staff/photos/{photo_id}")
        assert page.status_code == 200 and "Hidden from everyone" in page.text
        preview = send(staff.client, "GET", f"/staff/photos/{photo_id}/image?size=thumb")
        assert preview.status_code == 200
        # The gallery's own image route serves staff nothing of it either.
        thumb = send(staff.client, "GET", f"/gallery/photos/{photo_id}/image?size=thumb")
        assert thumb.status_code == 404

        assert _post(staff, f"/staff/photos/{photo_id}/show") == 303
        assert _lists(world, guardian, photo_id)
        assert set(_reachable(guardian, photo_id).values()) == {200}


def test_a_photo_hidden_from_one_family_is_gone_for_that_family_only(world, actors):
    club = world.clubs[1]
    photo_id = club.a.photo.id
    guardian, staff = actors["guardian_a"], actors["staff_1"]
    with world.harness.cell():
        outcome = _post(
            staff, f"/staff/removal-requests/{club.removal_id}", outcome="hidden_family"
        )
        assert outcome == 303
        assert _lists(world, guardian, photo_id) == []
        assert set(_reachable(guardian, photo_id).values()) == {404}
        # Not hidden for the club: it can still be published, and staff see it as before.
        assert len(_zip_photos(staff, photo_id)) == 1
        thumb = send(staff.client, "GET", f"/gallery/photos/{photo_id}/image?size=thumb")
        assert thumb.status_code == 200
        # The family sees what became of their request instead of the form.
        home = send(guardian.client, "GET", "/gallery")
        assert "removed the photo from your family" in home.text
