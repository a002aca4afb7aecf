"""Issue 22: static files under hashed names with immutable caching, compressed responses, the SW's list."""
import gzip
import re

import brotli

from fieldapp import static_files
from fieldapp.config import PROJECT_ROOT


def _hashed(page, name):
    stem, suffix = name.rsplit(".", 1)
    found = re.search(rf'/static/{re.escape(stem)}\.([0-9a-f]{{10}})\.{suffix}', page)
    assert found, name
    return found.group(0)


def test_pages_name_static_files_by_content_and_they_are_immutable(client):
    page = client.get("/sign-in").get_data(as_text=True)
    url = _hashed(page, "css/app.css")
    response = client.get(url, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.get_data() == (PROJECT_ROOT / "static/css/app.css").read_bytes()
    assert response.mimetype == "text/css"


def test_old_names_still_work_but_are_revalidated_and_unknown_names_404(client):
    response = client.get("/static/js/app.js")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    again = client.get("/static/js/app.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/static/js/app.0123456789.js").status_code == 404
    assert client.get("/static/js/nothing.js").status_code == 404


def test_static_text_is_compressed_and_images_are_not(client):
    page = client.get("/sign-in").get_data(as_text=True)
    url = _hashed(page, "js/outbox.js")
    raw = (PROJECT_ROOT / "static/js/outbox.js").read_bytes()
    br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br" and "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.get_data()) == raw and len(br.get_data()) < len(raw) / 2
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.get_data()) == raw
    icon = client.get(_hashed(page, "icons/icon-any-192.png"), headers={"Accept-Encoding": "gzip, br"})
    assert icon.status_code == 200 and "Content-Encoding" not in icon.headers


def test_a_process_compresses_a_file_only_when_a_browser_asks_for_it(client):
    """Every process (each huey consumer, each CLI command) brotli-compressed all of static/ at start-up:
    about 0.2 s of CPU, for files most of them never serve. Reading static/ compresses nothing now."""
    static_files.compressed.cache_clear()
    files = static_files.Manifest(PROJECT_ROOT / "static")
    assert static_files.compressed.cache_info().currsize == 0
    item = files.by_name["js/app.js"]
    assert item.compressible and not files.by_name["icons/icon-any-192.png"].compressible
    for _twice in range(2):
        response = client.get("/static/" + item.hashed, headers={"Accept-Encoding": "br"})
        assert response.headers["Content-Encoding"] == "br" and brotli.decompress(response.get_data()) == item.raw
    assert static_files.compressed.cache_info().currsize == 1  # made once, for the encoding asked for


def test_pages_and_json_are_compressed_with_vary(client):
    response = client.get("/sign-in", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert b"<!doctype html>" in gzip.decompress(response.get_data())
    manifest = client.get("/manifest.webmanifest", headers={"Accept-Encoding": "br"})
    assert manifest.headers["Content-Encoding"] == "br"
    plain = client.get("/sign-in", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and b"<!doctype html>" in plain.get_data()


def test_service_worker_precaches_what_the_signed_out_pages_load_and_no_more(client):
    source = client.get("/sw.js").get_data(as_text=True)
    shell = set(re.search(r"const SHELL_STATIC = \[(.*?)\];", source).group(1).replace('"', "").split(", "))
    page = client.get("/sign-in").get_data(as_text=True)
    loaded = set(re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', page))
    assert loaded <= shell, loaded - shell
    assert not any("htmx" in url for url in shell)
    # The outbox code is inside the worker (importScripts would fetch it a second time on a first install).
    assert "importScripts(" not in source and "scope.fieldappOutboxCore = " in source
