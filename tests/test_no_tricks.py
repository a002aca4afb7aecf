"""Pages show what is true now: no per-process caches of rendered rows, URLs or translations (issue 15)."""
from datetime import date

from fieldapp.models import User
from fieldapp.sites import service as sites


def test_the_people_list_gets_dates_as_dates_on_every_database(world):
    """Each column is converted by its field's public python_value, as peewee's .tuples() does: the card's
    expiry is a date on SQLite (stored as text) as on PostgreSQL (tests/test_reused_sql.py compares them)."""
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

    source = app.jinja_env.loader.get_source(app.jinja_env, "sites/_people_rows.html")[0]
    path = f"/s/{world.site.id}/people"
    before = as_role("manager").get(path).get_data(as_text=True)
    assert 'class="viewer"' not in before
    changed = DictLoader({"sites/_people_rows.html": source.replace(
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
        for link in ('href="{}/manifest.webmanifest"', 'src="{}/static/js/app.', 'href="{}/static/css/app.',
                     'src="{}/static/js/clock.', 'href="{}/me"', 'href="{}/alerts"'):
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


def poll(client, path, etag=None):
    headers = {"HX-Request": "true", "HX-Target": "x"}
    if etag:
        headers["If-None-Match"] = etag
    return client.get(path, headers=headers)


def test_the_on_site_list_answers_304_to_a_poll_when_nothing_changed(as_role, world):
    """The on-site list polls every 15 s: unchanged, the answer is 304 with no body; once someone checks
    in, the next poll gets the new list. The ETag is the body's hash, so a 304 is never stale."""
    import uuid

    from fieldapp.models import CheckIn, utcnow

    foreman = as_role("foreman")
    path = f"/s/{world.site.id}/on-site"
    first = poll(foreman, path)
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"  # kept by the phone, asked again each time
    assert "Worker Person" not in first.get_data(as_text=True)
    unchanged = poll(foreman, path, first.headers["ETag"])
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["worker"], checked_in_at=utcnow(),
                   name="Worker Person")
    changed = poll(foreman, path, first.headers["ETag"])
    assert changed.status_code == 200 and "Worker Person" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert poll(foreman, path, changed.headers["ETag"]).status_code == 304
    whole = foreman.get(path)
    assert whole.status_code == 200 and whole.headers["Cache-Control"] == "no-store"


def test_the_alert_status_answers_304_to_a_poll_until_someone_acknowledges(as_role, world):
    """The sender's status polls every 5 s while anyone has not acknowledged: 304 while nothing moves."""
    import uuid

    from fieldapp.models import Alert, AlertRecipient, utcnow

    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["foreman"], level="warning",
                         title="Crane lift", body="Keep clear")
    copies = {role: AlertRecipient.create(alert=alert, user=world.people[role], role=role)
              for role in ("worker", "verneombud")}
    foreman = as_role("foreman")
    path = f"/s/{world.site.id}/alerts/{alert.id}/status"
    first = poll(foreman, path)
    assert first.status_code == 200 and 'hx-trigger="every 5s"' in first.get_data(as_text=True)
    assert poll(foreman, path, first.headers["ETag"]).status_code == 304
    AlertRecipient.update(acked_at=utcnow()).where(AlertRecipient.id == copies["worker"].id).execute()
    after = poll(foreman, path, first.headers["ETag"])
    assert after.status_code == 200 and "1 av 2 har bekreftet" in after.get_data(as_text=True)
