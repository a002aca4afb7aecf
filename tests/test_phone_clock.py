"""The phone's clock is a claim, the server's clock is the record (fieldapp/phone_time.py).

Fast and slow clocks, an item that waited 8 days offline, "7 days back" on purpose, an acknowledgement
after its deadline, a batch sent when the phone is back, and the marking in lists and exports.
"""
import csv
import io
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp import clock, phone_time
from fieldapp.models import Alert, AlertRecipient, CheckIn, DeviceSession, Equipment, Report, SiteEquipment, utcnow
from fieldapp.phone_time import recorded_time

R = datetime(2026, 3, 2, 9, 30)  # a receipt time for the pure rule (naive UTC)


def iso(moment):
    """A naive UTC moment as the phone's outbox sends it (Date.toISOString)."""
    return moment.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


@pytest.fixture
def site(world):
    SiteEquipment.create(site=world.site, equipment=Equipment.get(Equipment.key == "helmet"))
    return world.site


@pytest.fixture
def stamp(app):
    """stamp(moment) -> the signed 'issued' value of a form served at that moment."""

    def make(moment):
        with app.app_context():
            return phone_time.issue_stamp(moment)

    return make


def check_in(client, site, token=None, **fields):
    """token: a CSRF token got before (else the test client fetches one, and the server sees the phone)."""
    data = {"uuid": str(uuid.uuid4()), "all_worn": "y", **fields}
    if token:  # CsrfClient would fetch pages for a token and the maker first (the server would see the phone)
        session = DeviceSession.get()
        return client.post(f"/s/{site.id}/checkin", data=data, csrf=False,
                           headers={"X-Outbox": "1", "X-CSRFToken": token,
                                    "X-Outbox-Maker": f"{session.user_id}.{session.id}"})
    return client.post(f"/s/{site.id}/checkin", data=data, headers={"X-Outbox": "1"})


def report(client, site, **fields):
    data = {"uuid": str(uuid.uuid4()), "kind": "hazard", "category": "falls", "description": "Open edge", **fields}
    return client.post(f"/s/{site.id}/reports/new", data=data, headers={"X-Outbox": "1"})


def seconds(a, b):
    return abs((a - b).total_seconds())


# --- the rule itself -------------------------------------------------------------------------------------------

def test_the_rule_in_each_case():
    served = R - timedelta(seconds=20)
    assert recorded_time(None, R, served) == R  # no claim
    assert recorded_time(R + timedelta(minutes=10), R, served) == R  # fast clock: the receipt, never later
    assert recorded_time(R - timedelta(seconds=90), R, served) == R  # sent at once over a slow link
    # A clock 2 hours slow, sent at once: never before the form was served.
    assert recorded_time(R - timedelta(hours=2), R, served) == served
    # ... and with the phone's own measured clock error, exactly the receipt.
    assert recorded_time(R - timedelta(hours=2), R, served, offset=-timedelta(hours=2)) == R
    # An item that waited 8 days offline keeps its time: made after the form was served.
    eight_days = R - timedelta(days=8)
    assert recorded_time(eight_days, R, eight_days - timedelta(minutes=1)) == eight_days
    # "7 days back" on purpose, on a page served 20 s ago: 20 s ago at most.
    assert recorded_time(R - timedelta(days=7), R, served) == served
    # Nothing the server knows comes before the receipt: the receipt.
    assert recorded_time(R - timedelta(hours=1), R, None) == R
    # A measured error can move a claim, never past the receipt.
    assert recorded_time(R - timedelta(hours=1), R, served, offset=-timedelta(days=3)) == R


@pytest.mark.parametrize("raw", ["", None, "tomorrow", "2026-13-45T25:00", "9" * 80, "2026-03-02T10:30:00+25:00"])
def test_an_unreadable_phone_time_is_a_missing_one(raw):
    assert phone_time.parse_claim(raw) is None


def test_a_phone_time_without_a_zone_is_norwegian_time():
    assert phone_time.parse_claim("2026-07-01T12:00:00") == datetime(2026, 7, 1, 10, 0)
    assert phone_time.parse_claim("2026-07-01T12:00:00Z") == datetime(2026, 7, 1, 12, 0)


def test_a_stamp_is_only_good_when_the_server_signed_it(app, stamp):
    moment = datetime(2026, 3, 2, 9, 0)
    good = stamp(moment)
    with app.app_context():
        assert phone_time.read_stamp(good) == moment
        assert phone_time.read_stamp(good[:-2] + ("AA" if not good.endswith("AA") else "BB")) is None
        assert phone_time.read_stamp("1700000000") is None
        assert phone_time.read_stamp(None) is None


def test_the_marking_follows_the_setting(app):
    received = datetime(2026, 3, 2, 13, 32)  # 14:32 in Oslo (winter time)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert phone_time.note(received - timedelta(minutes=4), received, received - timedelta(minutes=4)) == ""
        assert phone_time.note(received - timedelta(minutes=6), received, received - timedelta(minutes=6)) \
            == "recorded later at 14:32"
        # The receipt was kept, but the phone said otherwise: what it said is shown.
        assert phone_time.note(received + timedelta(minutes=10), received, received) == "phone said 14:42"
        app.config["PHONE_CLOCK_MARK_MINUTES"] = 15
        assert phone_time.note(received - timedelta(minutes=10), received, received - timedelta(minutes=10)) == ""


# --- check-ins and reports over HTTP -------------------------------------------------------------------------

@pytest.mark.parametrize("minutes", [6, 10])
def test_a_fast_clock_is_saved_with_the_receipt_time(as_role, site, stamp, minutes):
    response = check_in(as_role("worker"), site, made_at=iso(utcnow() + timedelta(minutes=minutes)),
                        issued=stamp(utcnow()))
    assert response.status_code == 201
    row = CheckIn.get()
    assert row.checked_in_at == row.received_at  # the worker is on today's list, at the server's time
    assert seconds(row.phone_in_at, row.received_at + timedelta(minutes=minutes)) < 5  # the claim is kept

    response = report(as_role("worker"), site, made_at=iso(utcnow() + timedelta(minutes=minutes)))
    assert response.status_code == 201
    saved = Report.get(Report.description == "Open edge")
    assert saved.happened_at == saved.received_at and saved.phone_at > saved.received_at


def test_a_slow_clock_sent_at_once_is_not_stored_as_it_says(as_role, site, stamp):
    served = utcnow() - timedelta(seconds=30)
    response = check_in(as_role("worker"), site, made_at=iso(utcnow() - timedelta(hours=1)), issued=stamp(served))
    assert response.status_code == 201
    row = CheckIn.get()
    assert seconds(row.checked_in_at, served) < 1.5  # no earlier than the form was served
    # With the error the phone measured (clock.js), the receipt itself.
    response = report(as_role("worker"), site, made_at=iso(utcnow() - timedelta(hours=1)), issued=stamp(served),
                      clock_offset_ms=str(-3600 * 1000))
    saved = Report.get(Report.description == "Open edge")
    assert response.status_code == 201 and seconds(saved.happened_at, saved.received_at) < 2


def test_an_item_queued_8_days_ago_is_saved_with_its_time_and_marked(as_role, site, stamp):
    made = utcnow() - timedelta(days=8)
    response = check_in(as_role("worker"), site, made_at=iso(made), issued=stamp(made - timedelta(minutes=2)))
    assert response.status_code == 201
    row = CheckIn.get()
    assert seconds(row.checked_in_at, made) < 1 and seconds(row.phone_in_at, made) < 1
    day = clock.local(row.checked_in_at, site).date()
    page = as_role("foreman").get(f"/s/{site.id}/attendance?from={day}&to={day}").get_data(as_text=True)
    assert "Worker Person" in page
    assert f"registrert senere kl. {phone_time.local_hhmm(row.received_at)}" in page

    response = report(as_role("worker"), site, made_at=iso(made), issued=stamp(made - timedelta(minutes=2)))
    assert response.status_code == 201
    assert seconds(Report.get(Report.description == "Open edge").happened_at, made) < 1


def test_checking_in_7_days_back_on_purpose_online_gets_the_time_the_form_was_served(as_role, site, stamp):
    served = utcnow() - timedelta(seconds=10)
    response = check_in(as_role("worker"), site, made_at=iso(utcnow() - timedelta(days=7)), issued=stamp(served))
    assert response.status_code == 201
    row = CheckIn.get()
    assert row.checked_in_at >= served - timedelta(seconds=1)
    assert (row.received_at - row.phone_in_at) > timedelta(days=6)  # the claim is kept for the record
    page = as_role("foreman").get(f"/s/{site.id}/attendance").get_data(as_text=True)
    assert "telefonen sa kl." in page  # the foreman sees what the phone claimed


def test_without_a_stamp_the_phone_is_not_believed_before_it_was_last_seen(as_role, site):
    client = as_role("worker")
    token = client.csrf_token()
    seen = utcnow() - timedelta(hours=3)
    DeviceSession.update(last_seen_at=seen).execute()
    made = utcnow() - timedelta(hours=2)
    assert check_in(client, site, token=token, made_at=iso(made)).status_code == 201
    assert seconds(CheckIn.get().checked_in_at, made) < 1  # made after it was last seen: believed
    # Last seen now (the request above): "3 days ago" is not believed.
    assert client.post(f"/s/{site.id}/checkout", data={"uuid": str(uuid.uuid4()), "made_at": iso(made)},
                       headers={"X-Outbox": "1"}).status_code == 200
    row = CheckIn.get()
    assert row.checked_out_at >= seen and seconds(row.out_received_at, row.checked_out_at) < 400


def test_a_forged_stamp_counts_for_nothing(as_role, site, stamp):
    forged = stamp(utcnow() - timedelta(days=30))[:-4] + "abcd"
    response = check_in(as_role("worker"), site, made_at=iso(utcnow() - timedelta(days=29)), issued=forged)
    assert response.status_code == 201
    row = CheckIn.get()
    assert seconds(row.checked_in_at, row.received_at) < 2  # the session was seen just now


@pytest.mark.parametrize("made_at", ["garbage", "", "2026-02-30T08:00:00Z"])
def test_an_unreadable_time_is_saved_at_the_receipt_never_422(as_role, site, made_at):
    response = check_in(as_role("worker"), site, made_at=made_at)
    assert response.status_code == 201
    row = CheckIn.get()
    assert row.phone_in_at is None and row.checked_in_at == row.received_at


def test_a_batch_sent_when_the_phone_is_back_keeps_each_items_time(as_role, site, stamp):
    # The page was served, the phone went offline, three reports were made, the phone came back and loaded a
    # page (last_seen_at moves to now) and the outbox sent them one after the other.
    served = utcnow() - timedelta(hours=2)
    client = as_role("worker")
    DeviceSession.update(last_seen_at=served).execute()
    client.get("/")  # the page load that starts the flush
    made = [served + timedelta(minutes=m) for m in (5, 10, 15)]
    for n, moment in enumerate(made):
        assert report(client, site, made_at=iso(moment), issued=stamp(served), description=f"r{n}").status_code == 201
    for n, moment in enumerate(made):
        assert seconds(Report.get(Report.description == f"r{n}").happened_at, moment) < 1


def test_a_check_out_is_never_before_its_check_in(as_role, site, stamp):
    client = as_role("worker")
    assert check_in(client, site).status_code == 201
    response = client.post(f"/s/{site.id}/checkout", headers={"X-Outbox": "1"},
                           data={"uuid": str(uuid.uuid4()), "made_at": iso(utcnow() - timedelta(days=1)),
                                 "issued": stamp(utcnow() - timedelta(days=2))})
    assert response.status_code == 200
    row = CheckIn.get()
    assert row.checked_out_at >= row.checked_in_at and row.phone_out_at < row.checked_in_at


# --- acknowledgements and deadlines -----------------------------------------------------------------------

@pytest.fixture
def alert(world):
    """A stop-work alert sent 20 minutes ago, to be acknowledged within 10 (so 10 minutes overdue now)."""
    sent = utcnow() - timedelta(minutes=20)
    made = Alert.create(uuid=uuid.uuid4(), site=world.site, sender=world.people["verneombud"], level="stop_work",
                        title="Stop", body="Now", ack_deadline=sent + timedelta(minutes=10), created_at=sent)
    for role in ("worker", "foreman"):
        AlertRecipient.create(alert=made, user=world.people[role], role=role)
    return made


def ack(client, alert, **fields):
    return client.post(f"/s/{alert.site_id}/alerts/{alert.id}/ack", data={"uuid": str(uuid.uuid4()), **fields},
                       headers={"X-Outbox": "1"})


def copy_of(alert, world, role):
    return AlertRecipient.get((AlertRecipient.alert == alert) & (AlertRecipient.user == world.people[role]))


def test_an_ack_after_the_deadline_is_not_stored_before_it(as_role, world, alert, stamp):
    # A slow clock claims a time before the deadline; the page was served after it.
    before_deadline = alert.ack_deadline - timedelta(minutes=3)
    response = ack(as_role("worker"), alert, made_at=iso(before_deadline), issued=stamp(utcnow() - timedelta(seconds=5)))
    assert response.status_code == 201
    copy = copy_of(alert, world, "worker")
    assert copy.acked_at > alert.ack_deadline and seconds(copy.ack_phone_at, before_deadline) < 1
    # A page served before the deadline, a clock 15 minutes slow that the phone measured: the receipt.
    response = ack(as_role("foreman"), alert, made_at=iso(utcnow() - timedelta(minutes=15)),
                   issued=stamp(alert.ack_deadline - timedelta(minutes=5)), clock_offset_ms=str(-15 * 60 * 1000))
    assert response.status_code == 201
    copy = copy_of(alert, world, "foreman")
    assert copy.acked_at > alert.ack_deadline and seconds(copy.acked_at, copy.ack_received_at) < 2


def test_an_ack_without_a_stamp_after_the_deadline_is_not_before_it(as_role, world, alert):
    response = ack(as_role("worker"), alert, made_at=iso(alert.ack_deadline - timedelta(minutes=5)))
    assert response.status_code == 201
    assert copy_of(alert, world, "worker").acked_at > alert.ack_deadline


def test_an_ack_that_waited_offline_keeps_its_time_and_the_sender_sees_it_came_later(as_role, world, alert, stamp):
    pressed = alert.ack_deadline - timedelta(minutes=8)  # on a page served before, sent 18 minutes later
    response = ack(as_role("foreman"), alert, made_at=iso(pressed), issued=stamp(alert.created_at + timedelta(seconds=30)))
    assert response.status_code == 201
    copy = copy_of(alert, world, "foreman")
    assert seconds(copy.acked_at, pressed) < 1 and copy.ack_received_at > alert.ack_deadline
    status = as_role("verneombud").get(f"/s/{world.site.id}/alerts/{alert.id}/status").get_data(as_text=True)
    assert f"registrert senere kl. {phone_time.local_hhmm(copy.ack_received_at)}" in status


def test_an_ack_is_never_before_its_alert(as_role, world, alert, stamp):
    response = ack(as_role("worker"), alert, made_at=iso(alert.created_at - timedelta(hours=1)),
                   issued=stamp(alert.created_at - timedelta(hours=2)))
    assert response.status_code == 201
    assert copy_of(alert, world, "worker").acked_at >= alert.created_at


# --- lists and exports ------------------------------------------------------------------------------------------

def test_reports_list_page_and_attendance_files_mark_back_dating(as_role, site, stamp):
    made = utcnow() - timedelta(hours=5)
    worker = as_role("worker")
    assert check_in(worker, site, made_at=iso(made), issued=stamp(made - timedelta(minutes=1))).status_code == 201
    assert report(worker, site, made_at=iso(made), issued=stamp(made - timedelta(minutes=1))).status_code == 201
    row, saved = CheckIn.get(), Report.get(Report.description == "Open edge")
    later = f"registrert senere kl. {phone_time.local_hhmm(saved.received_at)}"
    foreman = as_role("foreman")
    assert later in foreman.get(f"/s/{site.id}/reports?status=all").get_data(as_text=True)
    assert later in foreman.get(f"/s/{site.id}/reports/{saved.id}").get_data(as_text=True)

    day = clock.local(row.checked_in_at, site).date()
    body = foreman.get(f"/s/{site.id}/attendance.csv?from={day}&to={day}").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert table[0][-1] == "Merknad om tid"
    mine = [line for line in table[1:] if line[0] == "Worker Person"][0]
    assert mine[-1] == f"Inn: registrert senere kl. {phone_time.local_hhmm(row.received_at)}"
    pdf = foreman.get(f"/s/{site.id}/attendance.pdf?from={day}&to={day}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_an_on_time_record_is_not_marked(as_role, site):
    worker = as_role("worker")
    assert check_in(worker, site, made_at=iso(utcnow())).status_code == 201
    page = as_role("foreman").get(f"/s/{site.id}/attendance").get_data(as_text=True)
    assert "Worker Person" in page and "time-note" not in page


def test_forms_that_make_records_on_the_phone_carry_a_stamp(app, as_role, site, world, alert):
    pages = [f"/s/{site.id}/checkin", f"/s/{site.id}/reports/new", f"/s/{site.id}/alerts/{alert.id}"]
    for path in pages:
        page = as_role("worker").get(path).get_data(as_text=True)
        assert 'name="issued"' in page and re.search(r"js/clock\.[0-9a-f]+\.js", page), path
        assert "Klokken på telefonen går {minutes} min feil." in page


@pytest.mark.parametrize("made_at, offset", [("9999-12-31T23:59:59Z", None), ("9999-12-31T00:00:00Z", "-316224000000"),
                                             ("0001-01-02T00:00:00Z", "316224000000")])
def test_a_phone_time_that_is_no_time_is_none_and_every_list_still_shows(as_role, site, made_at, offset):
    # The breaker: a phone time of 9999-12-31 was stored, and the reports list, the report, the attendance list
    # and the alert status then answered 500 for everyone (OverflowError on the site's clock); with a clock offset
    # the send itself was a 500, which the outbox retried for ever.
    fields = {"made_at": made_at, **({"clock_offset_ms": offset} if offset else {})}
    assert report(as_role("worker"), site, **fields).status_code == 201
    assert check_in(as_role("worker"), site, **fields).status_code == 201
    saved, row = Report.get(Report.description == "Open edge"), CheckIn.get()
    assert saved.phone_at is None and row.phone_in_at is None  # what the phone said could not be a time
    foreman = as_role("foreman")
    for path in (f"/s/{site.id}/reports", f"/s/{site.id}/reports/{saved.id}", f"/s/{site.id}/attendance",
                 f"/s/{site.id}/attendance.csv", f"/s/{site.id}/attendance.pdf"):
        assert foreman.get(path).status_code == 200, path
