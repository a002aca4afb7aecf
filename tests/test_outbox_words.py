"""The outbox bar's counted words are made once per language, and each language gets its own."""
from flask_babel import force_locale

from fieldapp.templating import outbox_counts


def test_each_language_gets_its_own_words(app):
    with app.test_request_context("/"):
        with force_locale("pl"):
            polish = outbox_counts()
        with force_locale("en"):
            english = outbox_counts()
        with force_locale("pl"):
            assert outbox_counts() is polish  # made once for Polish
    assert polish != english
    assert set(polish["waiting"]) == {"one", "few", "many", "other"} & set(polish["waiting"])
    assert len(polish["waiting"]) >= 3 and set(english["waiting"]) == {"one", "other"}
    assert "{count}" in english["waiting"]["other"]

