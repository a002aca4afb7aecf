"""The app shell: security headers, the installable-app files, health, error pages, languages."""
import io
import json
import re

from flask import render_template_string
from flask_babel import force_locale
from helpers import sign_in
from PIL import Image

from fieldapp.config import PROJECT_ROOT
from fieldapp.models import User


def test_security_headers_and_strict_csp(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


def test_pages_have_no_inline_script_or_handlers(as_role, world):
    import re

    client = as_role("manager")
    for path in ("/", "/me", f"/s/{world.site.id}/people", f"/s/{world.site.id}/people/new", "/sign-in"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert not re.search(r"\son[a-z]+=", page), path
        assert "hx-on" not in page and "style=" not in page, path


def test_session_cookie_flags(tmp_path):
    from helpers import test_config

    from fieldapp import create_app

    config = test_config(tmp_path)
    config.pop("SESSION_COOKIE_SECURE")
    app = create_app(config)  # the production default
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["DEBUG"] is False


def test_manifest_is_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data())
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"].startswith("/") and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] and manifest["background_color"]
    seen = set()
    for icon in manifest["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200
        image = Image.open(io.BytesIO(png.get_data()))
        width, height = image.size
        assert icon["sizes"] == f"{width}x{height}"
        seen.add((width, icon["purpose"]))
    # Chromium accepts a 192 px icon alone; the 512 px one must be checked here.
    assert {(192, "any"), (512, "any"), (512, "maskable")} <= seen


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    source = response.get_data(as_text=True)
    assert "__SHELL_HASH__" not in source and 'const SHELL_VERSION = "shell-' in source
    # Everything it precaches exists, under the pages' hashed names (fieldapp/static_files.py).
    shell = json.loads(re.search(r"const SHELL_STATIC = (\[.*?\]);", source).group(1))
    assert any(re.fullmatch(r"/static/css/app\.[0-9a-f]{10}\.css", url) for url in shell)
    assert any(re.fullmatch(r"/static/js/app\.[0-9a-f]{10}\.js", url) for url in shell)
    for path in ["/offline", "/outbox"] + shell:
        assert f'"{path}"' in source
        assert client.get(path).status_code == 200, path


def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok" and response.json["queue"] == "ok"
    assert response.json["queue_pending"] == 0


def test_healthz_says_503_when_the_database_is_unreachable(tmp_path):
    from helpers import test_config

    from fieldapp import create_app
    from fieldapp.db import database

    app = create_app(test_config(tmp_path, database_url=f"sqlite:///{tmp_path}/missing-folder/x.db"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"].startswith("error") and response.json["status"] == "error"
    if not database.is_closed():
        database.close()


def test_error_pages_speak_the_persons_language(as_role, world):
    client = as_role("worker")
    not_found = client.get("/s/9999/people")
    assert not_found.status_code == 404 and "Ikke funnet" in not_found.get_data(as_text=True)
    User.update(language="en").where(User.id == world.people["worker"].id).execute()
    forbidden = client.get(f"/s/{world.site.id}/people")
    assert forbidden.status_code == 403 and "Not allowed" in forbidden.get_data(as_text=True)


def test_too_large_upload_is_a_friendly_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/sign-in", data={"phone": "x" * 4096, "secret": "y"})
    assert response.status_code == 413
    assert "For stor" in response.get_data(as_text=True)


def test_unknown_page_and_wrong_method(client):
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/sign-out").status_code == 405


def test_language_switch_before_sign_in(client):
    response = client.post("/language", data={"language": "en", "next": "/sign-in"})
    assert response.status_code == 303
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page


def test_language_choice_is_kept_on_the_profile(as_role, world):
    client = as_role("worker")
    assert client.post("/me/language", data={"language": "en"}).status_code == 303
    assert User.get_by_id(world.people["worker"].id).language == "en"
    page = client.get("/", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Report a hazard" in page
    assert client.post("/me/language", data={"language": "xx"}).status_code == 422


def test_the_outbox_page_speaks_the_language_of_who_signed_in(app, as_role, world):
    """The outbox page holds no person (the service worker keeps one copy for the phone), yet an English
    reader gets it in English: after choosing English, and at the next sign-in."""
    client = as_role("worker")
    assert client.post("/me/language", data={"language": "en"}).status_code == 303
    page = client.get("/outbox", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Waiting on this phone" in page
    again = app.test_client()  # another phone that signs in: the person's language, not the phone's
    assert sign_in(again, world.people["worker"]).status_code == 303
    page = again.get("/outbox", headers={"Accept-Language": "nb"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_htmx_is_vendored_and_configured_without_eval(client, world):
    page = client.get("/sign-in").get_data(as_text=True)
    assert '/static/vendor/htmx-2.0.11/htmx.min.' not in page  # the sign-in page uses none of it
    sign_in(client, world.people["worker"])
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'/static/vendor/htmx-2\.0\.11/htmx\.min\.[0-9a-f]{10}\.js', page)
    assert '"allowEval":false' in page and '"includeIndicatorStyles":false' in page
    assert (PROJECT_ROOT / "static/vendor/htmx-2.0.11/htmx.min.js").stat().st_size > 40_000


def test_csrf_token_travels_in_the_htmx_header(client, world):
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_hours_and_dates_kept_as_text_follow_the_readers_language(app):
    """The attendance hours and a timeline's deadline (ISO text in the event's JSON) read as the reader writes."""
    page = "{{ 7.5|decimal1 }} t, {{ '2026-12-03'|date }}"
    with app.test_request_context():
        with force_locale("nb"):
            assert render_template_string(page) == "7,5 t, 03.12.2026"
        with force_locale("en"):
            assert render_template_string(page) == "7.5 t, 03/12/2026"
