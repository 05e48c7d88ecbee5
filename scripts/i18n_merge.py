"""Re-extract marked strings, update the nl/fr/en catalogs, and fill translations from
frontend/locales/pending/*.json ({"msgid": {"nl": ..., "fr": ...}}). Prints what is still missing.

Run with `make messages`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "frontend" / "locales"
BIN = Path(sys.executable).parent


def main() -> int:
    pot = LOCALES / "messages.pot"
    subprocess.run(
        [BIN / "pybabel", "extract", "-F", "babel.cfg", "-k", "N_", "--no-location",
         "--omit-header", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    subprocess.run(
        [BIN / "pybabel", "update", "-i", str(pot), "-d", str(LOCALES), "--no-fuzzy-matching",
         "--omit-header", "--width", "100"],
        cwd=ROOT, check=True, capture_output=True,
    )
    pending: dict[str, dict[str, str]] = {}
    for path in sorted((LOCALES / "pending").glob("*.json")):
        pending.update(json.loads(path.read_text(encoding="utf-8")))
    missing_total = 0
    for locale in ("nl", "fr"):
        path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        missing = []
        for message in catalog:
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            entry = pending.get(key, {}).get(locale)
            if entry is not None:
                message.string = tuple(entry) if isinstance(message.id, tuple) else entry
            done = all(message.string) if isinstance(message.string, tuple) else message.string
            if not done:
                missing.append(key)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False)
        for key in missing:
            print(f"{locale}: missing {key!r}")
        missing_total += len(missing)
    pot.unlink()
    print(f"{missing_total} translations missing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
