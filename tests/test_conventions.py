"""Conventions of the style guide that a reader relies on, checked from the source.

- No module over 400 lines: past that, a module is split into a sub-package.
- Service functions are keyword-only: a public function outside the route modules takes a
  database session, and any second parameter, by name, so a call site reads
  `publish(session=..., organisation=..., use=...)` and two arguments of one type cannot swap.
- Routes are thin: a route module parses, calls a service and renders; it runs no query and
  ends no transaction (no `select(`, `.exec(`, `session.get(`, `.commit(`, `.rollback(`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import consentlens

ROOT = Path(consentlens.__file__).resolve().parent
MAX_LINES = 400

# Called positionally by what they plug into, with a signature it fixes.
POSITIONAL_BY_CONTRACT = {
    # consent.events and core.hooks listeners: Callable[[Session, News], None]
    "consentlens.faces.enrollment.on_consent_changed",
    "consentlens.faces.enrollment.on_child_archived",
    "consentlens.publishing.takedowns.on_consent_changed",
    "consentlens.publishing.takedowns.on_child_archived",
    "consentlens.faces.protection.on_child_protection_changed",
    "consentlens.publishing.takedowns.on_child_protection_changed",
    "consentlens.publishing.withdrawn.on_photo_withdrawn",
    "consentlens.wiring.give_default_uses",
    # FastAPI dependencies
    "consentlens.auth.deps.get_optional_principal",
    "consentlens.consent.answerer.get_answerer",
    # The page renderer reads as a sentence: render(request, "template.html", **context).
    "consentlens.core.templating.render",
    # jobs.worker.Queue callables, called by the pool
    "consentlens.faces.processing.start_up",
    "consentlens.faces.processing.sweep_files",
    "consentlens.faces.processing.claim",
    "consentlens.faces.processing.store_outcome",
    "consentlens.faces.processing.reclaim_expired",
    "consentlens.faces.processing.run_share",
    "consentlens.faces.processing.combine",
    "consentlens.faces.processing.join",
    "consentlens.maintenance.run",
    # jobs.distributed.Kind callables and the jobs.queue Sender contract
    "consentlens.faces.processing.claim_photo",
    "consentlens.faces.processing.release_photo",
    "consentlens.faces.processing.finish_photo",
    "consentlens.outbox.service.claim",
    "consentlens.outbox.service.release",
    "consentlens.outbox.service.waiting",
    "consentlens.outbox.service.finish",
    "consentlens.faces.processing.waiting_photos",
    "consentlens.jobs.distributed.send",
    "consentlens.jobs.distributed.lock_of",
    "consentlens.wiring.send_job",
    # a ProcessPoolExecutor initializer: called with initargs
    "consentlens.jobs.worker.prepare_process",
    # Jinja filters and globals: called by templates
    "consentlens.consent.flow.field_name",
    "consentlens.core.templating.localdate",
    "consentlens.core.templating.localtime",
    "consentlens.core.templating.lastday",
    # FastAPI exception handlers: (request, exc)
    "consentlens.core.limits.body_too_large",
}


def _modules() -> dict[str, Path]:
    names = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_route_module(path: Path) -> bool:
    return path.name in {"api.py", "pages.py"} or path.name.endswith(("_pages.py", "_api.py"))


def test_no_module_is_over_400_lines():
    long = {
        name: count
        for name, path in _modules().items()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _positional(module: str, source: str) -> list[str]:
    """The public functions of `module` that take a session, or two or more, by position."""
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name.startswith("_") or f"{module}.{node.name}" in POSITIONAL_BY_CONTRACT:
            continue
        if node.decorator_list:
            continue  # a route or a CLI command: the framework calls it, by name
        args = node.args
        by_position = [a.arg for a in args.posonlyargs + args.args]
        if "session" in by_position or len(by_position) >= 2:
            found.append(f"{module}.{node.name}({', '.join(by_position)})")
    return found


def test_service_functions_take_keyword_arguments():
    positional = [
        function
        for name, path in _modules().items()
        if not _is_route_module(path)
        for function in _positional(name, path.read_text())
    ]
    assert positional == []


def test_the_keyword_check_tells_the_two_apart():
    source = (
        "def publish(session, organisation, use): ...\n"
        "def record(*, session, child): ...\n"
        "def pair(a, b): ...\n"
        "def subject(text, *, size, colour): ...\n"
        "def _helper(session, x): ...\n"
        "@router.get('/')\ndef route(request, session): ...\n"
        "def by_id(session): ...\n"
    )
    assert _positional("m", source) == [
        "m.publish(session, organisation, use)",
        "m.pair(a, b)",
        "m.by_id(session)",
    ]


# The transaction is the session dependency's (core/db.py): a route neither queries nor ends it.
_DATABASE_METHODS = {"exec", "commit", "rollback"}


def _database_calls(source: str) -> list[str]:
    """The calls in `source` that query the database or end its transaction, as `line: call`."""
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "select":
            found.append((node.lineno, node.col_offset, "select("))
        elif isinstance(func, ast.Attribute) and func.attr in _DATABASE_METHODS:
            found.append((node.lineno, node.col_offset, f".{func.attr}("))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in {"get", "add", "delete", "flush"}
            and isinstance(func.value, ast.Name)
            and func.value.id == "session"
        ):
            # `request.session.get` is the cookie session, an attribute: not matched.
            found.append((node.lineno, node.col_offset, f"session.{func.attr}("))
    return [f"{line}: {call}" for line, _, call in sorted(found)]


def test_routes_call_services_for_the_database():
    calls = [
        f"{name}:{call}"
        for name, path in _modules().items()
        if _is_route_module(path)
        for call in _database_calls(path.read_text())
    ]
    assert calls == []


def test_the_route_check_tells_the_two_apart():
    flagged = (
        "def page(request, session):\n"
        "    child = session.get(Child, 1)\n"
        "    rows = session.exec(select(Child)).all()\n"
        "    session.commit()\n"
        "    session.rollback()\n"
        "    session.add(child)\n"
    )
    assert _database_calls(flagged) == [
        "2: session.get(",
        "3: .exec(",
        "3: select(",
        "4: .commit(",
        "5: .rollback(",
        "6: session.add(",
    ]
    clean = (
        "def page(request, session):\n"
        "    token = request.session.get('token')\n"
        "    child = found_or_404(children.get_child(session=session, child_id=1))\n"
        "    values = form.get('name')\n"
        "    return render(request, 'child.html', child=child)\n"
    )
    assert _database_calls(clean) == []
