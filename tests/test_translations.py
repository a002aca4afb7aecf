"""Every UI language is complete: each string in the code and templates has a translation in every catalogue,
none is fuzzy, plurals have the number of forms the language's plural rule needs (Babel's CLDR data), and no
plural is built by hand."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from fieldapp.config import LANGUAGE_NAMES, PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "fieldapp/translations"
SOURCE_LANGUAGE = "en"  # the msgids
TRANSLATED = [code for code in LANGUAGE_NAMES if code != SOURCE_LANGUAGE]


def catalog_path(language):
    return TRANSLATIONS / language / "LC_MESSAGES/messages.po"


def read_catalog(language):
    with open(catalog_path(language), "rb") as f:
        return read_po(f, locale=language)


def msgid(message):
    return message.id[0] if isinstance(message.id, tuple) else message.id


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The POT as the code and templates are now: {msgid: Message}."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
                   cwd=PROJECT_ROOT, check=True)
    with open(pot, "rb") as f:
        return {msgid(m): m for m in read_po(f) if m.id}


def translated(message):
    return "fuzzy" not in message.flags and (all(message.string) if isinstance(message.id, tuple) else bool(message.string))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_has_a_translation(language, extracted):
    catalog = read_catalog(language)
    done = {msgid(m) for m in catalog if m.id and translated(m)}
    missing = set(extracted) - done
    assert not missing, f"{language}: run `make messages` and translate: {sorted(missing)[:20]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_fuzzy_translations(language):
    fuzzy = [msgid(m) for m in read_catalog(language) if m.id and "fuzzy" in m.flags]
    assert not fuzzy, f"{language}: fuzzy (a guess by msgmerge, not a translation): {fuzzy[:20]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_forms_follow_the_language(language, extracted):
    """Polish, Lithuanian and Ukrainian have three forms (1 / 2-4 / 5+, roughly); bokmål two. The header's
    Plural-Forms must be CLDR's, and every plural message must fill each form."""
    catalog = read_catalog(language)
    expected = get_plural(language)
    assert catalog.num_plurals == expected.num_plurals, (language, catalog.plural_forms, str(expected))
    header = catalog.mime_headers
    forms = dict(header).get("Plural-Forms", "")
    assert f"nplurals={expected.num_plurals};" in forms.replace(" ", ""), forms
    for message in catalog:
        if not message.id or not isinstance(message.id, tuple) or msgid(message) not in extracted:
            continue
        assert len(message.string) == expected.num_plurals, (language, message.id, message.string)
        assert all(message.string), (language, message.id)
    for key, message in extracted.items():  # a plural in the code is a plural in the catalogue
        if isinstance(message.id, tuple) and catalog.get(key) is not None:  # missing: the test above
            assert isinstance(catalog.get(key).id, tuple), (language, key)


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language):
    placeholders = lambda text: set(re.findall(r"%\(\w+\)[sd]", text))  # noqa: E731
    for message in read_catalog(language):
        if not message.id or not translated(message):
            continue
        if isinstance(message.id, tuple):  # every form keeps the placeholders (the count's may be left out)
            wanted = placeholders(message.id[1]) - {"%(num)s", "%(num)d"}
            assert all(wanted <= placeholders(form) for form in message.string), (language, message.id)
        else:
            assert placeholders(message.id) == placeholders(message.string), (language, message.id)


def test_every_language_has_a_catalogue():
    assert not [code for code in TRANSLATED if not catalog_path(code).exists()]


# --- plurals built by hand --------------------------------------------------------------------------------

# A count in a one-form message: Polish says "1 zgłoszenie, 2 zgłoszenia, 5 zgłoszeń"; only ngettext can.
COUNT_NAMES = {"num", "n", "count", "number", "days", "hours", "minutes", "people", "reports", "acked", "total"}
HAND_PLURALS = [
    re.compile(r"\{%-?\s*if\s+[\w.()|]+\s*(==|!=|>|<=)\s*1\s*-?%\}"),  # {% if n == 1 %}...{% else %}
    re.compile(r"""["']s["']\s+if\b"""),  # "s" if n != 1
    re.compile(r"""\bif\s+[\w.()\[\]"']+\s*(==|!=)\s*1\s+else\b"""),  # x if n == 1 else y
    re.compile(r"""\|\s*pluralize\b"""),
]


def source_files():
    for folder, pattern in (("fieldapp", "**/*.py"), ("templates", "**/*.html")):
        yield from (PROJECT_ROOT / folder).glob(pattern)


# Comparisons with 1 that choose no word: the page's layout depends on how many there are, not a noun's form.
NOT_HAND_PLURALS = {
    # the checklist selector is shown only when there is a choice; its label is the same for any number
    ("templates/rounds/new.html", "{% if templates|length > 1 %}"),
    # the per-site table is shown only when there are several sites; no word depends on the number
    ("templates/stats/page.html", "{% if result.per_site|length > 1 %}"),
    # paging links: shown when there is more than one page or a page before this one
    ("templates/competence/matrix.html", "{% if m.pages > 1 %}"),
    ("templates/competence/matrix.html", '{% if m.page > 1 %}<a class="button small" href="{{ url_for(\'competence.matrix\', site_id=g.site.id, status=status, task=task, page=m.page - 1) }}">{{ _("Previous") }}</a>{% endif %}'),
}


def test_no_plural_built_by_hand():
    found = []
    for path in source_files():
        relative = str(path.relative_to(PROJECT_ROOT))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if (relative, line.strip()) in NOT_HAND_PLURALS:
                continue
            if any(pattern.search(line) for pattern in HAND_PLURALS):
                found.append(f"{relative}:{number}: {line.strip()[:100]}")
    assert not found, "use ngettext for a number in a sentence:\n" + "\n".join(found)


def test_the_hand_plural_check_can_fail():
    for sample in ('{% if rows|length == 1 %}person{% else %}people{% endif %}',
                   'f"{n} report" + ("s" if n != 1 else "")', '"day" if days == 1 else "days"'):
        assert any(pattern.search(sample) for pattern in HAND_PLURALS), sample


# Numbers that count nothing in the sentence: a range's bound, an ordinal, a unit symbol ("min" does not inflect).
NOT_COUNTS = {
    "Give the days of absence as a number from 0 to %(n)s.",
    "Give the time to acknowledge in minutes, from 1 to %(n)s.",
    "Give the interval as a number of days from 1 to %(n)s.",
    "Give the hours of absence as a number from 0 to %(n)s.",
    "Give the validity as whole months from 1 to %(n)s, or leave it empty.",
    "Photo %(n)s (%(name)s) could not be used: %(why)s",
    "The phone's clock is %(minutes)s min off.",
    "%(hours)s h",  # a unit symbol after a decimal figure (t, godz., val., год do not inflect either)
}


def test_counts_go_through_ngettext(extracted):
    """A message that carries a count (%(num)s, %(n)s, ...) is a plural message."""
    single = [key for key, message in extracted.items() if not isinstance(message.id, tuple)
              and set(re.findall(r"%\((\w+)\)[sd]", key)) & COUNT_NAMES and key not in NOT_COUNTS]
    assert not single, f"wrap these in ngettext: {single}"


# Polish past tense says the reader's gender ("widziałeś" is a man, "widziałaś" a woman): the app does not know it,
# so it addresses the reader without one ("co zauważono", "po jej otwarciu"). Found: "Co widziałeś?" on the
# report form.
GENDERED_POLISH = re.compile(r"\w+ł[ea]ś\b")


def test_polish_addresses_the_reader_without_a_gender():
    found = [(msgid(m), text) for m in read_catalog("pl") if m.id
             for text in (m.string if isinstance(m.string, tuple) else (m.string,)) if GENDERED_POLISH.search(text)]
    assert found == []


def test_the_gender_check_can_fail():
    assert GENDERED_POLISH.search("Co widziałeś?") and GENDERED_POLISH.search("co zrobiłaś")
    assert not GENDERED_POLISH.search("Co zauważono?")
