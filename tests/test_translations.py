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
        return {m.id for m in read_po(f) if m.id}


def test_every_string_has_a_bokmal_translation(tmp_path):
    with open(CATALOG, "rb") as f:
        catalog = read_po(f, locale="nb")
    translated = {m.id for m in catalog if m.id and m.string and "fuzzy" not in m.flags}
    missing = extracted_msgids(tmp_path) - translated
    assert not missing, f"run `make messages` and translate: {sorted(missing)}"


def test_placeholders_survive_translation():
    import re

    with open(CATALOG, "rb") as f:
        catalog = read_po(f, locale="nb")
    for message in catalog:
        if message.id:
            assert set(re.findall(r"%\(\w+\)[sd]", message.id)) == set(re.findall(r"%\(\w+\)[sd]", message.string)), message.id
