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



def test_each_render_reads_flask_babels_translations_of_its_own_moment(app):
    """Templates ask Flask-Babel for the translations once per render (templating.translations_of), never
    once per request: a render made while another runs, under force_locale (as a push message's text is
    made), is in its own language and the outer page goes on in its own; a template rendered without the
    context processors (a bare Template.render) asks Flask-Babel at each call."""
    from flask import render_template_string
    from flask_babel import force_locale

    def in_english():
        with force_locale("en"):
            return render_template_string("{{ _('Home') }}")

    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        page = render_template_string("{{ _('Home') }}|{{ inner() }}|{{ _('Home') }}", inner=in_english)
        assert page == "Hjem|Home|Hjem"
        bare = app.jinja_env.from_string("{{ _('Home') }}|{{ ngettext('%(num)s person', '%(num)s people', 2) }}")
        with force_locale("en"):
            assert bare.render() == "Home|2 people"
        assert bare.render().startswith("Hjem|")

def poll(client, path, etag=None):
    headers = {"HX-Request": "true", "HX-Target": "x"}
    if etag:
        headers["If-None-Match"] = etag
    return client.get(path, headers=headers)


def test_the_on_site_list_answers_304_to_a_poll_when_nothing_changed(as_role, world):
    """The on-site list polls every 15 s: unchanged, the answer is 304 with no body; once someone checks
    in, the next poll gets the new list. The ETag is made from what the list shows (htmx.render_polled), so
    a 304 is never stale."""
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


def renders(app):
    """The templates rendered while the block runs: Flask's template_rendered signal, as a list of names."""
    from flask import template_rendered

    names = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    return names, template_rendered.connected_to(record, app)


def test_an_unchanged_poll_is_answered_before_anything_is_rendered(app, as_role, world):
    """The ETag of a polled fragment is computed from what it is made of, before rendering: a poll that holds
    the current fragment gets its 304 with no template rendered, for the on-site list and the alert status."""
    import uuid

    from fieldapp.models import Alert, AlertRecipient

    alert = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["foreman"], level="warning",
                         title="Crane lift", body="Keep clear")
    AlertRecipient.create(alert=alert, user=world.people["worker"], role="worker")
    foreman = as_role("foreman")
    for path in (f"/s/{world.site.id}/on-site", f"/s/{world.site.id}/alerts/{alert.id}/status"):
        first = poll(foreman, path)
        assert first.status_code == 200
        names, recording = renders(app)
        with recording:
            unchanged = poll(foreman, path, first.headers["ETag"])
            again = poll(foreman, path, '"not-the-current-one"')
        assert unchanged.status_code == 304 and unchanged.headers["ETag"] == first.headers["ETag"]
        assert again.status_code == 200 and again.get_data() == first.get_data()
        assert len(names) == 1  # only the poll without the current ETag rendered its fragment


def test_a_poll_gets_the_new_list_at_once_after_a_check_out_or_a_follow_up(as_role, world):
    """Whatever changes what the on-site list shows changes its ETag: a check-out, equipment provided."""
    import uuid

    from fieldapp.models import CheckIn, FollowUp, utcnow

    check_in = CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=world.people["worker"],
                              checked_in_at=utcnow(), name="Worker Person", missing=["helmet"])
    follow_up = FollowUp.create(site=world.site, kind="missing_equipment", check_in=check_in, detail=["helmet"])
    foreman = as_role("foreman")
    path = f"/s/{world.site.id}/on-site"
    first = poll(foreman, path)
    body = first.get_data(as_text=True)
    assert "Worker Person" in body and 'class="card follow-ups"' in body
    FollowUp.update(resolved_at=utcnow()).where(FollowUp.id == follow_up.id).execute()
    provided = poll(foreman, path, first.headers["ETag"])
    assert provided.status_code == 200 and 'class="card follow-ups"' not in provided.get_data(as_text=True)
    CheckIn.update(checked_out_at=utcnow()).where(CheckIn.id == check_in.id).execute()
    gone = poll(foreman, path, provided.headers["ETag"])
    assert gone.status_code == 200 and "Worker Person" not in gone.get_data(as_text=True)


def test_a_poll_is_never_answered_304_for_another_viewer_language_or_role(as_role, world):
    """The same list in another language, or for a viewer of another role (who may see other buttons), has
    its own ETag: a phone handed to a colleague, or a language changed, gets the fragment afresh."""
    from fieldapp.models import Membership, User

    path = f"/s/{world.site.id}/on-site"
    foreman = as_role("foreman")
    first = poll(foreman, path)
    assert poll(as_role("manager"), path, first.headers["ETag"]).status_code == 200
    User.update(language="en").where(User.id == world.people["foreman"].id).execute()
    english = poll(foreman, path, first.headers["ETag"])
    assert english.status_code == 200 and "Nobody is checked in." in english.get_data(as_text=True)
    Membership.update(role="manager").where((Membership.user == world.people["foreman"].id)
                                            & (Membership.site == world.site.id)).execute()
    assert poll(foreman, path, english.headers["ETag"]).status_code == 200


def test_a_polled_fragment_takes_plain_data_only():
    """A model object in a polled fragment's context fails loudly: a digest of it could miss a field the
    template shows, and answer 304 with something stale."""
    from datetime import date

    import pytest

    from fieldapp.htmx import fingerprint

    row = (1, "Ola", date(2026, 3, 5), None, {"helmet": "Hjelm"}, [True, 2.5])
    assert fingerprint(row) == fingerprint((1, "Ola", date(2026, 3, 5), None, {"helmet": "Hjelm"}, [True, 2.5]))
    assert fingerprint(row) != fingerprint((1, "Ola", date(2026, 3, 6), None, {"helmet": "Hjelm"}, [True, 2.5]))
    assert fingerprint(["1"]) != fingerprint([1])
    with pytest.raises(TypeError, match="plain data"):
        fingerprint({"who": User(id=1, name="Ola")})


def test_in_development_a_template_edit_shows_in_the_next_poll(app, as_role, world):
    """Where templates are re-read from disk (auto_reload), the code is not fixed for the process: the poll's
    ETag is then the body's hash, so an edited fragment template is sent at once, not answered 304."""
    from jinja2 import ChoiceLoader, DictLoader

    path = f"/s/{world.site.id}/on-site"
    foreman = as_role("foreman")
    first = poll(foreman, path)
    source = app.jinja_env.loader.get_source(app.jinja_env, "checkin/_on_site_rows.html")[0]
    app.jinja_env.loader = ChoiceLoader([DictLoader({"checkin/_on_site_rows.html": source.replace(
        '<p class="count">', '<p class="count edited">')}), app.jinja_env.loader])
    app.jinja_env.auto_reload = True
    edited = poll(foreman, path, first.headers["ETag"])
    assert edited.status_code == 200 and 'class="count edited"' in edited.get_data(as_text=True)
    assert poll(foreman, path, edited.headers["ETag"]).status_code == 304
