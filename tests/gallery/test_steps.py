"""Previous and next on a gallery photo: within the list it was opened from, never beyond what
the guardian may see."""

from __future__ import annotations

import re

from tests.gallery.test_pages import _as, _world


def _steps(html: str) -> dict[str, str]:
    """rel → href of the previous/next links on a photo page."""
    return {
        rel: href
        for href, rel in re.findall(r'href="(/gallery/photos/[^"]+)" rel="(prev|next)"', html)
    }


def test_previous_and_next_stay_in_the_event_or_in_my_childrens_photos(client, db):
    w = _world(db)
    _as(client, w.c.guardian)
    # The team's event, newest first: obama, then the pair. The other team's photos (newer ids)
    # are not in it.
    assert _steps(client.get(f"/gallery/photos/{w.obama.id}").text) == {
        "next": f"/gallery/photos/{w.pair.id}"
    }
    assert _steps(client.get(f"/gallery/photos/{w.pair.id}").text) == {
        "prev": f"/gallery/photos/{w.obama.id}"
    }
    # "Photos of my children" links its photos to that list, and they step through it: Joe's
    # away photo is in it, Rose's (another family's) never.
    mine = client.get("/gallery/mine").text
    assert f'href="/gallery/photos/{w.obama.id}?view=mine"' in mine
    assert _steps(client.get(f"/gallery/photos/{w.obama.id}?view=mine").text) == {
        "prev": f"/gallery/photos/{w.biden_away.id}?view=mine",
        "next": f"/gallery/photos/{w.pair.id}?view=mine",
    }
    # A photo whose event the guardian does not see steps through their children's photos.
    away = client.get(f"/gallery/photos/{w.biden_away.id}").text
    assert _steps(away) == {"next": f"/gallery/photos/{w.obama.id}?view=mine"}
    assert f"/gallery/photos/{w.rose.id}" not in away
    assert 'href="/gallery/mine"' in away  # and its way back leads there

    # The other family steps through their own group's event: Joe's photo there, never ours.
    _as(client, w.other_parent)
    page = client.get(f"/gallery/photos/{w.rose.id}")
    assert _steps(page.text) == {"next": f"/gallery/photos/{w.biden_away.id}"}
    last = client.get(f"/gallery/photos/{w.biden_away.id}")
    assert last.status_code == 200
    assert _steps(last.text) == {"prev": f"/gallery/photos/{w.rose.id}"}
    # Their "my children" list holds Rose's photo alone at most: nothing to step to.
    alone = client.get(f"/gallery/photos/{w.rose.id}?view=mine").text
    assert _steps(alone) == {} and 'class="g-step"' not in alone
