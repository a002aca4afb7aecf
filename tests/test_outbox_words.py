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



def test_the_layouts_outbox_texts_are_what_the_tojson_filter_writes(app):
    """base.html takes the outbox bar's texts as JSON made once per language (outbox_counts_json): the same
    text, byte for byte, as `outbox_counts()[name]|tojson` in the template, in every language."""
    from flask import render_template_string
    from flask_babel import force_locale

    from fieldapp.templating import outbox_counts_json

    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                made = outbox_counts_json()
                for name, forms in outbox_counts().items():
                    assert made[name] == render_template_string("{{ forms|tojson }}", forms=forms), (language, name)
