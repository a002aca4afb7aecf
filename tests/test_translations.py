"""Norwegian bokmål is complete: every string in the code and templates has a translation."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from fieldapp.config import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "fieldapp/translations/nb/LC_MESSAGES/messages.po"


def extracted_msgids(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
                   cwd=PROJECT_ROOT, check=True)
    with open(pot, "rb") as f:
        return {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(f) if m.id}


def test_every_string_has_a_bokmal_translation(tmp_path):
    with open(CATALOG, "rb") as f:
        catalog = read_po(f, locale="nb")
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog
                  if m.id and "fuzzy" not in m.flags and (all(m.string) if isinstance(m.id, tuple) else m.string)}
    missing = extracted_msgids(tmp_path) - translated
    assert not missing, f"run `make messages` and translate: {sorted(missing)}"


def test_placeholders_survive_translation():
    import re

    with open(CATALOG, "rb") as f:
        catalog = read_po(f, locale="nb")
    placeholders = lambda text: set(re.findall(r"%\(\w+\)[sd]", text))  # noqa: E731
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # plural forms: every form keeps the placeholders
            assert all(placeholders(form) == placeholders(message.id[1]) for form in message.string), message.id
        else:
            assert placeholders(message.id) == placeholders(message.string), message.id
