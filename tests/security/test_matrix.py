"""The authorisation matrix: every route of the app × method × role, with real ids of others.

The routes come from the application's own route table, so a new route is in the matrix the day
it is added; a route without a declared expectation (tests/security/expectations.py) fails, and
so does a declared expectation without a route.

Each cell is one request, in a savepoint that is rolled back afterwards:
- `own`: a role allowed to use the route, with ids of its own (its club, its family). It must get
  through: not refused, not sent to sign in, no server error.
- `foreign:<id>`: the same, with that one id replaced by a real id of someone else (another
  club for staff, another family for guardians, another family for the link). A path id must give
  403 or 404; an id in a form gives 400/403/404/409/422 (filters may also ignore it).
- `no-access`: a role that may not use the route, with its own ids (where a hole would leak):
  401, 403, 404 or a redirect to /login, nothing else.
In every cell: no 5xx, and no marker word of data the role may not see, in the body or headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from consentlens.main import create_app
from tests.security.expectations import TABLE, Rule
from tests.security.harness import send
from tests.security.world import ROLES, World, forbidden_markers

try:  # FastAPI ≥ 0.16x keeps included routers as branches of the route tree.
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI: app.routes is already flat

    def iter_route_contexts(routes):  # type: ignore[no-redef]
        return iter(routes)


_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")
# Path parameters that are not someone's data: nothing to swap for another's.
_NOT_IDS = frozenset({"locale", "token", "path"})
REFUSED = frozenset({401, 403, 404})
PATH_FOREIGN = frozenset({403, 404})


def route_table() -> list[tuple[str, str]]:
    """Every (method, path) the application answers; a mount counts as GET on its prefix."""
    keys: set[tuple[str, str]] = set()
    for route in iter_route_contexts(create_app().routes):
        methods = route.methods or {"GET"}
        keys.update((method, route.path) for method in methods)
    return sorted(keys, key=lambda key: (key[1], key[0]))


ROUTES = route_table()


def _path_ids(path: str) -> list[str]:
    return [name for name in _PATH_PARAM.findall(path) if name not in _NOT_IDS]


def _variants(key: tuple[str, str], rule: Rule, role: str) -> Iterator[str]:
    if role not in rule.access.roles:
        yield "no-access"
        return
    yield "own"
    if rule.access.public:
        return
    seen = []
    for name in _PATH_PARAM.findall(key[1]) + list(rule.body_ids):
        if name not in _NOT_IDS and name not in seen:
            seen.append(name)
            yield f"foreign:{name}"


def _cells() -> Iterator[Any]:
    for key in ROUTES:
        method, path = key
        rule = TABLE.get(key)
        if rule is None:
            yield pytest.param(key, "-", "undeclared", id=f"{method} {path} | undeclared")
            continue
        for role in ROLES:
            for variant in _variants(key, rule, role):
                yield pytest.param(key, role, variant, id=f"{method} {path} | {role} | {variant}")


def _fill(path: str, ids: dict[str, Any]) -> str:
    return _PATH_PARAM.sub(lambda m: str(ids[m.group(1)]), path)


def _location(response: Any) -> str:
    return response.headers.get("location", "") if response.headers else ""


def _refused(response: Any) -> bool:
    if response.status_code in REFUSED:
        return True
    return response.status_code in (302, 303, 307) and _location(response).startswith("/login")


def _readable(response: Any) -> str:
    """What a person could read in the response: text bodies, every header."""
    headers = " ".join(f"{k}: {v}" for k, v in (response.headers or {}).items())
    kind = (response.headers or {}).get("content-type", "")
    body = response.text if kind.startswith(("text/", "application/json")) else ""
    return f"{headers}\n{body}"


def _leaks(response: Any, role: str) -> list[str]:
    readable = _readable(response).lower()
    return sorted(word for word in forbidden_markers(role) if word.lower() in readable)


def _describe(response: Any) -> str:
    where = f" → {_location(response)}" if _location(response) else ""
    kind = (response.headers or {}).get("content-type", "")
    if response.status_code < 500 and not kind.startswith(("text/", "application/json")):
        return f"{response.status_code}{where} ({kind}, {len(response.content)} bytes)"
    snippet = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text or ""))[:160].strip()
    return f"{response.status_code}{where} {snippet!r}"


def call(world: World, key: tuple[str, str], rule: Rule, role: str, variant: str) -> Any:
    """Make the cell's request as `role`, in a savepoint, and return the response."""
    method, path = key
    actor = world.actors[role]
    ids = world.own_ids(role)
    if variant.startswith("foreign:"):
        name = variant.split(":", 1)[1]
        ids = {**ids, name: world.foreign_ids(role)[name]}
    url = rule.probe or _fill(path, ids)
    kwargs: dict[str, Any] = {}
    if rule.query:
        kwargs["params"] = rule.query(ids)
    data = dict(rule.form(ids)) if rule.form else {}
    if method == "POST" and rule.csrf and not rule.access.api:
        data["csrf_token"] = actor.csrf
    if data:
        kwargs["data"] = data
    if rule.files:
        kwargs["files"] = rule.files(ids)
    if rule.json:
        kwargs["json"] = rule.json(ids)
    if rule.access.api and actor.headers:
        kwargs["headers"] = actor.headers
    actor.restore()
    with world.harness.cell():
        return send(actor.client, method, url, **kwargs)


@pytest.mark.parametrize(("key", "role", "variant"), list(_cells()))
def test_cell(world: World, key: tuple[str, str], role: str, variant: str) -> None:
    rule = TABLE.get(key)
    if rule is None:
        pytest.fail(
            f"{key[0]} {key[1]} has no declared expectation: "
            "add it to tests/security/expectations.py"
        )
    response = call(world, key, rule, role, variant)
    problems = []
    if response.status_code >= 500:
        problems.append(f"server error: {_describe(response)}")
    leaked = _leaks(response, role)
    if leaked:
        problems.append(
            f"someone else's data in the response ({', '.join(leaked)}): {_describe(response)}"
        )
    if variant == "no-access" and not _refused(response):
        problems.append(
            f"{role} may not use this route ({rule.access!r}) but was not refused: "
            f"{_describe(response)}"
        )
    elif variant.startswith("foreign:"):
        name = variant.split(":", 1)[1]
        allowed = PATH_FOREIGN if name in _path_ids(key[1]) else rule.foreign_body
        if response.status_code not in allowed:
            problems.append(
                f"{role} sent someone else's {name} and got {_describe(response)}; "
                f"expected one of {sorted(allowed)}"
            )
    elif variant == "own" and not rule.access.public and _refused(response):
        problems.append(f"{role} was refused its own data: {_describe(response)}")
    assert not problems, "\n".join(problems)


def test_every_route_has_a_declared_expectation() -> None:
    missing = [f"{m} {p}" for m, p in ROUTES if (m, p) not in TABLE]
    assert not missing, (
        f"routes without an expectation in tests/security/expectations.py: {missing}"
    )


def test_every_declared_expectation_is_a_route() -> None:
    extra = [f"{m} {p}" for m, p in TABLE if (m, p) not in set(ROUTES)]
    assert not extra, f"expectations for routes the app does not have: {extra}"


_API_ROUTES = [
    key for key in ROUTES if key in TABLE and TABLE[key].access.api and not TABLE[key].access.public
]


@pytest.mark.parametrize("key", _API_ROUTES, ids=[f"{m} {p}" for m, p in _API_ROUTES])
def test_the_api_ignores_the_session_cookie(world: World, key: tuple[str, str]) -> None:
    """Staff signed in to the pages, calling the API without a token: 401, never their data."""
    rule = TABLE[key]
    cookie_only = replace(rule.access, api=False)
    unsigned = replace(rule, access=cookie_only, csrf=False)
    response = call(world, key, unsigned, "admin_1", "own")
    assert response.status_code == 401, _describe(response)
