"""Jinja as production runs it (issue 15, page speed): no template re-read from disk on each render outside
debug, and compiled templates kept in the instance folder for the next worker (bench/cold_start.py)."""
from pathlib import Path

from helpers import test_config
from jinja2 import FileSystemBytecodeCache

from fieldapp import create_app


def test_templates_are_compiled_once_and_kept_for_the_next_worker(tmp_path, database_url):
    # An app of its own: the `app` fixture's is shared by the tests of a process, its templates long compiled.
    app = create_app(test_config(tmp_path, database_url))
    client = app.test_client()
    assert app.jinja_env.auto_reload is False
    assert isinstance(app.jinja_env.bytecode_cache, FileSystemBytecodeCache)
    cache = Path(app.instance_path, "jinja-cache")
    before = set(cache.glob("*.cache"))
    assert client.get("/sign-in").status_code == 200
    assert len(set(cache.glob("*.cache")) - before) >= 1  # sign_in.html, base.html, ... compiled and kept


def test_debug_reloads_edited_templates_and_keeps_no_compiled_code(tmp_path, database_url):
    debug = create_app({**test_config(tmp_path, database_url), "DEBUG": True})
    assert debug.jinja_env.auto_reload is True and debug.jinja_env.bytecode_cache is None
