"""An organization's own content named per language: the reader's language, then bokmål, then English."""
from fieldapp.i18n import localized, missing_languages


def test_the_readers_language_wins():
    assert localized({"nb": "Hjelm", "en": "Helmet", "pl": "Kask"}, "pl") == "Kask"


def test_a_missing_language_falls_back_to_bokmal_then_english_then_any():
    assert localized({"nb": "Hjelm", "en": "Helmet"}, "uk") == "Hjelm"
    assert localized({"en": "Helmet", "nb": ""}, "uk") == "Helmet"
    assert localized({"lt": "Šalmas"}, "uk") == "Šalmas"
    assert localized({}, "nb") == "" and localized(None, "nb") == ""


def test_the_manager_sees_which_languages_are_missing():
    assert missing_languages({"nb": "Hjelm", "pl": ""}, ("nb", "en", "pl")) == ["en", "pl"]
