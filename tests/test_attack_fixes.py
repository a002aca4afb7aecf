"""What an attacker found in issues 18-21, each refused with a clear message instead of a 500 or a wrong save."""
import io
import uuid

import pytest
from helpers import jpeg, sja_form

from fieldapp import inputs
from fieldapp.models import Report, RoundAnswer, Sja, TrainingRecord
from fieldapp.rounds import service as rounds


# --- 1. nobody approves their own certificate ---------------------------------------------------------------

@pytest.mark.parametrize("verb", ["approve", "reject"])
def test_a_foreman_cannot_decide_his_own_certificate(as_role, world, verb):
    foreman = as_role("foreman")
    sent = foreman.post("/me/competence", data={"uuid": str(uuid.uuid4()), "course": "hot_work",
                                               "taken_on": "2024-05-02", "issuer": "NBF"},
                        content_type="multipart/form-data")
    assert sent.status_code == 303, sent.get_data(as_text=True)
    row = TrainingRecord.get()
    response = foreman.post(f"/s/{world.site.id}/competence/records/{row.id}/{verb}", data={"reason": "Ugyldig"})
    assert response.status_code == 403
    assert "sitt eget sertifikat" in response.get_data(as_text=True)
    row = TrainingRecord.get_by_id(row.id)
    assert row.status == "pending" and row.decided_by_id is None
    # Another lead of the same employer still may.
    assert as_role("manager").post(f"/s/{world.site.id}/competence/records/{row.id}/approve").status_code == 303
    assert TrainingRecord.get_by_id(row.id).decided_by_id == world.people["manager"].id


# --- 3. numbers are ASCII digits only ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, number", [("12", 12), (" 7 ", 7), ("²", None), ("٣", None), ("-1", None), ("1.5", None),
                                         ("", None), (None, None), ("9" * 40, None)])
def test_whole_number_takes_only_ascii_digits(raw, number):
    assert inputs.whole_number(raw) == number


@pytest.mark.parametrize("field", ["step-0-hazard-0-probability", "responsible", "participants"])
def test_a_superscript_digit_in_an_sja_number_is_a_422_not_a_500(as_role, world, field):
    crew = [world.people["worker"], world.people["foreman"]]
    response = as_role("worker").post(f"/s/{world.site.id}/sja/new",
                                      data=sja_form(crew, world.people["foreman"], **{field: "²"}))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert Sja.select().count() == 0


def test_a_superscript_page_number_is_a_400(as_role, world):
    assert as_role("manager").get(f"/s/{world.site.id}/competence?page=²").status_code == 400


# --- 4. a round answer's UUID may equal a report's -----------------------------------------------------------

def test_a_deviation_whose_uuid_is_a_reports_uuid_gets_its_own_finding(as_role, world, app):
    with app.app_context():
        version = rounds.current_version(rounds.builtin_template())
    client = as_role("verneombud")
    round_uuid = str(uuid.uuid4())
    assert client.post(f"/s/{world.site.id}/rounds/new", data={"uuid": round_uuid, "version": version.id},
                       headers={"X-Outbox": "1"}).status_code in (200, 201, 303)
    item = rounds.item_keys(version)[0]
    taken = str(world.report.uuid)  # an existing report's UUID, sent as the answer's
    data = {"issued": "", "uuid": taken, "version": version.id, "item": item, "answer": "deviation",
            "note": "Gate left open", "photos": [(io.BytesIO(jpeg(colour="red")), "p.jpg")]}
    url = f"/s/{world.site.id}/rounds/{round_uuid}/answers"
    response = client.post(url, data=data, headers={"X-Outbox": "1"}, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    row = RoundAnswer.get(RoundAnswer.item_key == item)
    finding = Report.get_by_id(row.finding_id)
    assert finding.id != world.report.id and str(finding.uuid) != taken and "Gate left open" in finding.description
    assert Report.get_by_id(world.report.id).description == world.report.description  # the old one untouched
    data["photos"] = [(io.BytesIO(jpeg(colour="red")), "p.jpg")]
    again = client.post(url, data=data, headers={"X-Outbox": "1"}, content_type="multipart/form-data")
    assert again.status_code in (200, 201) and Report.select().where(Report.kind == "finding").count() == 1
