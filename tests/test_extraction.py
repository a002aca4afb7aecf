"""Every text the code marks for translation is one pybabel extracts: a `_()` inside an f-string is not (the
walkaround PDF said "Started:" in bokmål), so it would stay English in every language."""
import re

from fieldapp.config import PROJECT_ROOT

# _( or gettext( inside the braces of an f-string literal.
IN_F_STRING = re.compile(r"""\bf(["'])[^"'\n]*\{[^}\n]*\b(_|gettext|ngettext)\(""")


def marked_in_f_strings(text):
    return [line.strip() for line in text.splitlines() if IN_F_STRING.search(line)]


def test_no_translated_text_hides_in_an_f_string():
    found = []
    for path in sorted((PROJECT_ROOT / "fieldapp").rglob("*.py")):
        found += [f"{path.relative_to(PROJECT_ROOT)}: {line}" for line in marked_in_f_strings(path.read_text())]
    assert not found, "pybabel does not extract these; use _('Text: %(x)s', x=...) instead:\n" + "\n".join(found)


def test_the_check_finds_one():
    assert marked_in_f_strings("""pdf.cell(0, 8, f"{_('Minutes')}: {name}")""")
    assert not marked_in_f_strings("""pdf.cell(0, 8, _("Minutes: %(name)s", name=name))""")
