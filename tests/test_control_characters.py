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


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x9b"])  # NUL, ESC and a C1 control (CSI)
def test_an_outbox_report_with_a_control_character_is_refused_and_not_saved(as_role, world, control):
    worker = as_role("worker")
    response = worker.post(f"/s/{world.site.id}/reports/new", headers={"X-Outbox": "1"},
                           data={"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls",
                                 "description": f"Loose plank{control} on level 3"})
    assert response.status_code == 400
    assert not Report.select().where(Report.description.contains("Loose plank")).exists()


def test_an_sja_title_with_nul_saves_nothing(as_role, world):
    before = Sja.select().count()
    response = as_role("foreman").post(f"/s/{world.site.id}/sja/new",
                                       data={"title": "a\x00b", "uuid": str(uuid.uuid4())})
    assert response.status_code == 400 and Sja.select().count() == before


def test_tabs_and_newlines_are_ordinary_text(as_role, world):
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", headers={"X-Outbox": "1"},
                                      data={"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls",
                                            "description": "Line one\r\n\tLine two"})
    assert response.status_code in (200, 201), response.get_data(as_text=True)


@pytest.mark.parametrize("outbox", [False, True])
def test_a_photo_whose_file_name_holds_nul_is_kept_with_its_report(as_role, world, outbox):
    """The phone names the file, not the person: a control character in the name is dropped, and the report and
    its photo are saved (refusing them would lose the report)."""
    import io

    from helpers import jpeg

    from fieldapp.models import Photo

    headers = {"X-Outbox": "1"} if outbox else {}
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", headers=headers, data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls", "description": "Hole in the floor",
        "photos": [(io.BytesIO(jpeg()), "IMG\x00_0042\u202e.jpg"), (io.BytesIO(b"not a photo"), "notes\x07.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code in (200, 201, 303), response.status_code
    report = Report.get(Report.description == "Hole in the floor")
    assert Photo.select().where(Photo.report == report).count() == 1
    dropped = [e.data for e in report.events if e.kind == "photo_dropped"]
    assert len(dropped) == 1 and dropped[0]["name"] == "notes.jpg"


@pytest.mark.parametrize("disposition", ["form-data", "garbage", 'form-data; filename="a.jpg"'])
def test_a_form_part_without_a_name_is_a_clear_400_not_a_500(client, as_role, world, disposition):
    """werkzeug keeps a nameless multipart part under the key None, and every POST, sign-in too, answered 500."""
    body = f"--XyZ\r\nContent-Disposition: {disposition}\r\n\r\nx\r\n--XyZ--\r\n".encode()
    headers = {"Content-Type": "multipart/form-data; boundary=XyZ"}
    for who, path in ((client, "/sign-in"), (as_role("worker"), f"/s/{world.site.id}/reports/new"),
                      (as_role("worker"), f"/s/{world.site.id}/reports/{world.report.id}/comment")):
        response = who.post(path, data=body, headers=headers, csrf=False)
        assert response.status_code == 400, (path, response.status_code)
        assert "Noe var feil i forespørselen" in response.get_data(as_text=True)
    assert Report.select().count() == 1


@pytest.mark.parametrize("outbox", [False, True])
@pytest.mark.parametrize("pasted", ["\x0b", "\x0c", "\x85"])
def test_a_line_break_pasted_from_word_is_a_line_break(as_role, world, pasted, outbox):
    """Word's plain text holds a vertical tab for a manual line break (a form feed for a page break, NEL from
    converted text): the report is saved with the line break the person meant, not refused as a control character
    with "type the text again" (and from the outbox as well as from the page)."""
    headers = {"X-Outbox": "1"} if outbox else {}
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", headers=headers, data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls",
        "description": f"Loose plank on level 3{pasted}Tape it off"})
    assert response.status_code in (200, 201, 303), response.get_data(as_text=True)
    assert Report.get(Report.description.startswith("Loose plank")).description == "Loose plank on level 3\nTape it off"


@pytest.mark.parametrize("content_type", ["multipart/form-data", "application/x-www-form-urlencoded"])
def test_every_value_of_a_repeated_field_is_read_so(app, content_type):
    """Each value of a field sent more than once (the parser gives the view every one), in both form encodings."""
    from flask import request

    with app.test_request_context("/", method="POST", content_type=content_type,
                                  data={"step": ["Sling\x0bthe load", "Lift\x0cslowly", "Plain"], "note": "a\x85b"}):
        assert request.form.getlist("step") == ["Sling\nthe load", "Lift\nslowly", "Plain"]
        assert request.form["note"] == "a\nb"


def test_a_report_with_photos_keeps_the_pasted_line_break(as_role, world):
    import io

    from helpers import jpeg

    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls",
        "description": "Unsecured ladder\x0bby the lift",
        "photos": [(io.BytesIO(jpeg()), "edge.jpg")]}, content_type="multipart/form-data")
    assert response.status_code in (200, 201, 303), response.get_data(as_text=True)
    assert Report.get(Report.description.startswith("Unsecured ladder")).description == "Unsecured ladder\nby the lift"


def test_a_nul_beside_a_pasted_line_break_is_still_refused(as_role, world):
    response = as_role("worker").post(f"/s/{world.site.id}/reports/new", headers={"X-Outbox": "1"}, data={
        "uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls", "description": "Loose\x0bplank\x00"})
    assert response.status_code == 400
    assert not Report.select().where(Report.description.contains("plank")).exists()


def test_a_password_set_with_a_paragraph_separator_still_signs_in(client, world):
    """U+2028 and U+2029 were always taken as sent: a secret chosen with one before the pasted line breaks were read
    as "\n" must still match its hash."""
    from fieldapp.accounts import service as accounts
    from fieldapp.models import User

    secret = "Blåbær i skogen\u2029sommer 2026"
    User.update(password_hash=accounts.hash_secret(secret)).where(User.id == world.people["worker"].id).execute()
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"phone": world.people["worker"].phone, "secret": secret,
                                             "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
