"""Pages show what is true now: no per-process caches of rendered rows, URLs or translations (issue 15)."""
from datetime import date

from fieldapp.models import User
from fieldapp.sites import service as sites


def test_the_people_list_gets_dates_as_dates_on_every_database(world):
    """Rows come through peewee's public .tuples(), which converts each column by its field: the card's
    expiry is a date on SQLite (stored as text) as on PostgreSQL, with no conversion by hand."""
    User.update(hms_card_expiry=date(2020, 1, 31)).where(User.id == world.people["worker"].id).execute()
    members, _invitations = sites.people_on(world.site)
    worker = next(row for row in members if row.user_id == world.people["worker"].id)
    assert worker.hms_card_expiry == date(2020, 1, 31)
    assert isinstance(worker.hms_card_expiry, date)
    assert worker.enrolled and worker.employer_name == "Fjordbygg AS"


def test_a_change_to_the_people_row_template_shows_at_once_and_to_each_viewer_their_own(app, as_role, world):
    """No rendered row is kept between requests: a row template that starts to show something beyond the
    row's own fields (here who is looking) shows it at once, and never one person's row to another."""
    from jinja2 import ChoiceLoader, DictLoader

    source = app.jinja_env.loader.get_source(app.jinja_env, "sites/_person_row.html")[0]
    path = f"/s/{world.site.id}/people"
    before = as_role("manager").get(path).get_data(as_text=True)
    assert 'class="viewer"' not in before
    changed = DictLoader({"sites/_person_row.html": source.replace(
        "</a></li>", '<i class="viewer">{{ g.user.name }}</i></a></li>')})
    app.jinja_env.loader = ChoiceLoader([changed, app.jinja_env.loader])
    app.jinja_env.auto_reload = True  # as in development, where a template edit shows on the next request
    as_manager = as_role("manager").get(path).get_data(as_text=True)
    as_foreman = as_role("foreman").get(path).get_data(as_text=True)
    rows = as_manager.count('class="row person"')
    assert rows == 4  # the four people of site A
    assert as_manager.count('<i class="viewer">Manager Person</i>') == rows
    assert as_foreman.count('<i class="viewer">Foreman Person</i>') == rows
    assert "Manager Person</i>" not in as_foreman


def test_the_layouts_links_follow_each_requests_script_name(as_role):
    """Served under a path prefix (SCRIPT_NAME, set per request by the proxy): every link of the layout
    carries the prefix of the request it answers, never the one of the first request a process saw."""
    client = as_role("manager")
    first = client.get("/", environ_overrides={"SCRIPT_NAME": "/a"}).get_data(as_text=True)
    second = client.get("/", environ_overrides={"SCRIPT_NAME": "/b"}).get_data(as_text=True)
    for page, prefix, other in ((first, "/a", "/b"), (second, "/b", "/a")):
        for link in ('href="{}/manifest.webmanifest"', 'src="{}/static/js/app.js', 'href="{}/static/css/app.css',
                     'src="{}/static/js/clock.js', 'href="{}/me"', 'href="{}/alerts"'):
            assert link.format(prefix) in page, link.format(prefix)
            assert link.format(other) not in page


def test_templates_translate_through_flask_babel_in_the_language_of_the_moment(app):
    """The templates' gettext is Flask-Babel's own (one path for Python and templates): it follows the
    locale as it is when called, so a page rendered after the language changes mid-request (or under
    force_locale, as push messages are) is in the new language, not in one kept from earlier."""
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        page = "{{ _('Home') }}|{{ ngettext('%(num)s not acknowledged', '%(num)s not acknowledged', 2) }}"
        with force_locale("nb"):
            norwegian = render_template_string(page)
        with force_locale("en"):
            english = render_template_string(page)
        with force_locale("nb"):
            again = render_template_string(page)
    assert english == "Home|2 not acknowledged"
    assert norwegian == again != english
    assert norwegian.startswith("Hjem|")
