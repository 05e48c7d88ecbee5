"""The image throttle: a budget per user and per minute."""

from __future__ import annotations

from consentlens.core.throttle import SlidingWindow


def test_budget_per_key_refills_as_the_window_moves():
    now = [0.0]
    window = SlidingWindow(limit=3, window=60, clock=lambda: now[0])
    assert [window.allow("ann") for _ in range(4)] == [True, True, True, False]
    assert window.allow("bob")
    now[0] = 59.9
    assert not window.allow("ann")
    now[0] = 60.1
    assert window.allow("ann")


def test_every_route_that_sends_image_bytes_spends_the_same_budget(client, db, monkeypatch):
    from consentlens.core import throttle
    from tests import factories
    from tests.conftest import bearer, sign_in
    from tests.factories.photos import analysed_group_photo, unknown_faces

    c, _, photo = analysed_group_photo(db)
    face, _ = unknown_faces(db, photo)
    monkeypatch.setattr(throttle, "_images", throttle.SlidingWindow(limit=3, window=60))
    token = bearer(client, c.staff.email, factories.PASSWORD)
    sign_in(client, c.staff.email)
    staff_image = f"/staff/photos/{photo.id}/image?use=website&size=thumb"
    api_image = f"/api/v1/photos/{photo.id}/image?use=internal_gallery&size=thumb"
    crop = f"/staff/faces/{face.id}/crop"
    assert client.get(staff_image).status_code == 200
    assert client.get(api_image, headers=token).status_code == 200
    assert client.get(crop).status_code == 200
    for refused in (client.get(staff_image), client.get(api_image, headers=token)):
        assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert client.get(crop).status_code == 429
    assert "Wait a minute" in client.get(api_image, headers=token).json()["detail"]
    # Another user's budget is their own.
    assert throttle.allow_image(c.guardian.id)
