"""A control character (NUL above all: PostgreSQL refuses it in a text column) in any form is a clear 400 and
saves nothing, on every form and for the outbox too (found by the attack test: a 500 even at sign-in)."""
import uuid

import pytest
from helpers import CSRF_RE

from fieldapp.models import Report, Sja


def csrf_token(client, path):
    match = CSRF_RE.search(client.get(path).get_data(as_text=True))
    return match.group(1) or match.group(2)


@pytest.mark.parametrize("bad", ["9000\x000004", "90000004\x07", "\x1b[31m90000004"])
def test_sign_in_with_a_control_character_is_a_clear_400(client, bad):
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"phone": bad, "secret": "482913", "csrf_token": token})
    assert response.status_code == 400
    assert "ikke kan lagres" in response.get_data(as_text=True)


def test_an_outbox_report_with_nul_is_refused_and_not_saved(as_role, world):
    worker = as_role("worker")
    response = worker.post(f"/s/{world.site.id}/reports/new", headers={"X-Outbox": "1"},
                           data={"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls",
                                 "description": "Loose plank\x00 on level 3"})
    assert response.status_code == 400
    assert not Report.select().where(Report.description.contains("Loose plank")).exists()


def test_an_sja_title_with_nul_saves_nothing(as_role, world):
    before = Sja.select().count()
    response = as_role("foreman").post(f"/s/{world.site.id}/sja/new", data={"title": "a\x00b", "uuid": str(uuid.uuid4())})
    assert response.status_code == 400 and Sja.select().count() == before


def test_tabs_and_newlines_are_ordinary_text(as_role, world):
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", headers={"X-Outbox": "1"},
                                      data={"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls",
                                            "description": "Line one\r\n\tLine two"})
    assert response.status_code in (200, 201), response.get_data(as_text=True)
