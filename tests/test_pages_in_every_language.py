"""Every main page in each of the five languages, with no string left in another language (issue 17).

For a page in language L, a "foreign" string is the English msgid of a message L's catalogue translates
differently, or another catalogue's translation that L words differently. The walk reads the page's text and
the attributes a person reads (aria-label, placeholder, title, alt) and fails on any foreign string.
"""
import uuid
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po

from fieldapp.config import LANGUAGE_NAMES, PROJECT_ROOT
from fieldapp.models import CheckIn, User, utcnow

TRANSLATIONS = PROJECT_ROOT / "fieldapp/translations"
# (role, page) for the main pages; {site}, {report}, {alert} filled from World.
PAGES = [
    ("worker", "/"), ("worker", "/alerts"), ("worker", "/me"), ("worker", "/s/{site}/checkin"),
    ("worker", "/s/{site}/reports/new"), ("worker", "/s/{site}/reports/{report}"), ("worker", "/s/{site}/alerts/{alert}"),
    ("verneombud", "/s/{site}/alerts/new"), ("verneombud", "/s/{site}/alerts/{alert}"),
    ("manager", "/"), ("manager", "/s/{site}/reports"), ("manager", "/s/{site}/reports/{report}"),
    ("manager", "/s/{site}/on-site"), ("manager", "/s/{site}/attendance"), ("manager", "/s/{site}/checkin-settings"),
    ("manager", "/s/{site}/people"), ("manager", "/s/{site}/people/{worker}"), ("manager", "/s/{site}/poster"),
    ("manager", "/s/{site}/alerts"),
    # Pages without a person (the service worker keeps them for everyone on the phone): the phone's language.
    (None, "/sign-in"), (None, "/enroll"), (None, "/outbox"), (None, "/offline"),
]
READ_ATTRIBUTES = {"aria-label", "placeholder", "title", "alt"}


class ReadText(HTMLParser):
    """The texts a person reads on a page: text nodes and READ_ATTRIBUTES, outside <script>, <style>, <svg>,
    and outside elements marked with another lang (the language menu names each language in itself)."""

    def __init__(self, language):
        super().__init__()
        self.language = language
        self.stack = []
        self.texts = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("br", "input", "img", "meta", "link", "hr", "source"):
            hidden = self._hidden() or (attrs.get("lang") not in (None, self.language))
            if not hidden:
                self.texts += [attrs[a] for a in READ_ATTRIBUTES if attrs.get(a)]
            return
        hidden = tag in ("script", "style", "svg", "template") or attrs.get("lang") not in (None, self.language)
        self.stack.append((tag, hidden))
        if not self._hidden():
            self.texts += [attrs[a] for a in READ_ATTRIBUTES if attrs.get(a)]

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not self._hidden() and data.strip():
            self.texts.append(data)

    def _hidden(self):
        return any(hidden for _tag, hidden in self.stack)


def read_texts(page, language):
    parser = ReadText(language)
    parser.feed(page)
    return [" ".join(text.split()) for text in parser.texts]


def plain(text):
    """A catalogue text that can be found as written: no placeholders, no markup."""
    return "%(" not in text and "<" not in text and "{" not in text


def catalogues():
    """{language: {msgid: (forms...)}} of the translated, non-fuzzy messages of every catalogue."""
    found = {}
    for code in LANGUAGE_NAMES:
        path = TRANSLATIONS / code / "LC_MESSAGES/messages.po"
        if not path.exists():
            continue
        with open(path, "rb") as f:
            found[code] = {}
            for m in read_po(f, locale=code):
                if m.id and "fuzzy" not in m.flags:
                    ids = m.id if isinstance(m.id, tuple) else (m.id,)
                    forms = m.string if isinstance(m.string, tuple) else (m.string,)
                    if all(forms):
                        found[code][ids[0]] = (ids, tuple(forms))
    return found


def foreign_strings(language, every):
    """{text: where it comes from} of strings that must not appear on a page in `language`."""
    own = every.get(language, {})
    own_texts = {text for ids, forms in own.values() for text in forms} | ({m for m in every.get("nb", {})}
                                                                            if language == "en" else set())
    foreign = {}
    if language != "en":
        for key, (ids, forms) in own.items():
            for text in ids:
                if text not in forms and text not in own_texts:
                    foreign[text] = "en"
    for other, messages in every.items():
        if other == language:
            continue
        for key, (ids, forms) in messages.items():
            mine = own.get(key, (ids, ids))[1] if language != "en" else ids
            for text in forms:
                if text not in mine and text not in own_texts and text not in ids:
                    foreign.setdefault(text, other)
    return {text: origin for text, origin in foreign.items() if plain(text) and len(text) >= 4}


def find_foreign(texts, foreign):
    hits = []
    sentences = [(candidate, origin) for candidate, origin in foreign.items() if len(candidate.split()) >= 3]
    for text in texts:
        if text in foreign:
            hits.append((text, foreign[text]))
            continue
        hits.extend((candidate, origin) for candidate, origin in sentences  # a sentence inside a longer text
                    if candidate in text)
    return hits


@pytest.fixture(scope="module")
def every_catalogue():
    return catalogues()


@pytest.fixture
def busy_site(world_with_records):
    """Something on every page: a photo and an alert (helpers.add_photo_and_alert's records), someone checked in."""
    world = world_with_records
    CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["foreman"], checked_in_at=utcnow(),
                   name="Foreman Person", confirmed=["helmet"])
    return world


def test_the_walk_catches_a_string_from_another_catalogue(every_catalogue):
    foreign = foreign_strings("pl", every_catalogue)
    english = next(key for key, (ids, forms) in every_catalogue["pl"].items()
                   if plain(key) and len(key.split()) >= 3 and key not in forms)
    assert find_foreign(read_texts(f"<p>{english}</p>", "pl"), foreign) == [(english, "en")]
    norwegian = every_catalogue["nb"]["Report a hazard"][1][0]
    assert find_foreign(read_texts(f"<button>{norwegian}</button>", "pl"), foreign)
    assert not find_foreign(read_texts(f'<button lang="nb">{norwegian}</button>', "pl"), foreign)


@pytest.mark.parametrize("language", list(LANGUAGE_NAMES))
def test_every_main_page_speaks_only_the_readers_language(app, as_role, busy_site, every_catalogue, language):
    world = busy_site
    User.update(language=language).execute()
    foreign = foreign_strings(language, every_catalogue)
    assert language == "en" or len(foreign) > 100  # the check has something to check
    problems = {}
    for role, template in PAGES:
        path = template.format(site=world.site.id, report=world.report.id, alert=world.alert.id,
                               worker=world.people["worker"].id)
        if role is None:
            client = app.test_client()
            client.post("/language", data={"language": language, "next": "/sign-in"})
        else:
            client = as_role(role)
        response = client.get(path)
        assert response.status_code == 200, (role, path, response.status_code)
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in page, path
        hits = find_foreign(read_texts(page, language), foreign)
        if hits:
            problems[f"{role} {path}"] = sorted(set(hits))
    assert not problems, f"{language}: strings in another language:\n" + "\n".join(
        f"  {where}: {hits}" for where, hits in problems.items())
