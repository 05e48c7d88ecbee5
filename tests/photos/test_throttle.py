"""The image throttle: a budget per user and per minute."""

from __future__ import annotations

from consentlens.photos.throttle import SlidingWindow


def test_budget_per_key_refills_as_the_window_moves():
    now = [0.0]
    window = SlidingWindow(limit=3, window=60, clock=lambda: now[0])
    assert [window.allow("ann") for _ in range(4)] == [True, True, True, False]
    assert window.allow("bob")
    now[0] = 59.9
    assert not window.allow("ann")
    now[0] = 60.1
    assert window.allow("ann")
