"""Add the marked strings the nl/fr/en catalogs lack, translated from
frontend/locales/pending/*.json, at the end of each catalog; nothing else in the files changes.

`make messages` (i18n_merge.py) re-extracts and rewrites the catalogs in extraction order, which
moves most entries; this keeps a change's diff to its own strings, so that work done in parallel
merges. Plural entries in the JSON give a list: {"msgid": {"nl": ["one", "many"], ...}}.
Prints what is still missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "frontend" / "locales"
BIN = Path(sys.executable).parent


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def main() -> int:
    pot = LOCALES / "messages.pot"
    subprocess.run(
        [BIN / "pybabel", "extract", "-F", "babel.cfg", "-k", "N_", "--no-location",
         "--omit-header", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as handle:
        template = read_po(handle)
    pot.unlink()
    pending: dict[str, dict[str, str | list[str]]] = {}
    for path in sorted((LOCALES / "pending").glob("*.json")):
        pending.update(json.loads(path.read_text(encoding="utf-8")))
    missing_total = 0
    for locale in ("nl", "fr", "en"):
        path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id}
        blocks = []
        for message in template:
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            if key in known:
                continue
            # English needs no translation: the msgid is the text.
            entry = pending.get(key, {}).get(locale) if locale != "en" else None
            if locale != "en" and entry is None:
                print(f"{locale}: missing {key!r}")
                missing_total += 1
                continue
            if isinstance(message.id, tuple):
                # As many forms as the catalog's header says (a pending entry may carry more).
                forms = (list(entry) if entry is not None else [""] * 2)[: catalog.num_plurals]
                lines = [f"msgid {_quote(message.id[0])}", f"msgid_plural {_quote(message.id[1])}"]
                lines += [f"msgstr[{n}] {_quote(form)}" for n, form in enumerate(forms)]
            else:
                lines = [f"msgid {_quote(key)}", f"msgstr {_quote(str(entry or ''))}"]
            blocks.append("\n".join(lines))
        if blocks:
            text = path.read_text(encoding="utf-8").rstrip("\n")
            path.write_text(text + "\n\n" + "\n\n".join(blocks) + "\n", encoding="utf-8")
    print(f"{missing_total} translations missing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
