"""Per-user throttling of image requests: browsing is fine, bulk scraping is not.

In-process (per web process) and in memory: the embedded default runs one process. A deployment
with several web processes gets one budget per process, which still bounds a scraper.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable

from fastapi import HTTPException, status

from consentlens.core.config import get_settings
from consentlens.core.i18n import N_


class SlidingWindow:
    """At most `limit` events per `window` seconds per key."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: Hashable) -> bool:
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 10_000:
                # Forget idle keys so the table cannot grow without bound.
                for idle in [k for k, v in self._events.items() if not v]:
                    del self._events[idle]
            return True


_images: SlidingWindow | None = None


def allow_image(user_id: int) -> bool:
    """May this user fetch one more image now?"""
    global _images
    if _images is None:
        _images = SlidingWindow(get_settings().image_requests_per_minute, 60.0)
    return _images.allow(user_id)


def check_image(user_id: int) -> None:
    """Refuse (429) one more image for this user once their budget for the minute is spent.

    Every route that sends image bytes calls this first (gallery, staff pages, API, face crops):
    one budget per user over all of them, so no door is left open to bulk scraping.
    """
    if not allow_image(user_id):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            N_("You opened a lot of photos in a short time. Wait a minute and try again."),
            headers={"Retry-After": "60"},
        )
