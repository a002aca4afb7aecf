"""Flask commands: migrate, create-user, demo-data, vapid-public-key."""
import base64

from fieldapp.accounts import service as accounts
from fieldapp.competence import service as competence
from fieldapp.models import AmuMember, Membership, Site, User


def test_create_user_makes_the_first_manager(app, db):
    result = app.test_cli_runner().invoke(args=[
        "create-user", "--name", "Hanne HMS", "--phone", "480 00 000", "--password", "Bygg-sikkert-2026",
        "--organization", "Fjordbygg AS", "--org-number", "923609016",
        "--site", "Kaia", "--site-address", "Kaiveien 1", "--role", "manager"])
    assert result.exit_code == 0, result.output
    user = User.get(User.phone == "+4748000000")
    assert user.is_org_admin and user.employer.org_number == "923609016"
    assert Membership.get(user=user).site == Site.get(Site.name == "Kaia")
    with app.test_request_context():
        assert accounts.authenticate("48000000", "Bygg-sikkert-2026", "127.0.0.1") == user


def test_create_user_refuses_bad_input(app, db):
    runner = app.test_cli_runner()
    base = ["create-user", "--name", "X", "--organization", "O", "--org-number", "923609016"]
    bad_phone = runner.invoke(args=base + ["--phone", "12", "--password", "584027"])
    assert bad_phone.exit_code == 2 and "not a phone number" in bad_phone.output
    weak = runner.invoke(args=base + ["--phone", "48000001", "--password", "123456"])
    assert weak.exit_code == 2 and "pin trivial" in weak.output
    bad_org = runner.invoke(args=["create-user", "--name", "X", "--organization", "O", "--org-number", "923609017",
                                  "--phone", "48000001", "--password", "584027"])
    assert bad_org.exit_code == 2
    assert User.select().count() == 0
    runner.invoke(args=base + ["--phone", "48000001", "--password", "584027"])
    again = runner.invoke(args=base + ["--phone", "48000001", "--password", "584027"])
    assert again.exit_code == 1 and "exists already" in again.output
    assert User.select().count() == 1


def test_demo_data_is_idempotent(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-data"])
    assert first.exit_code == 0 and "6 people created" in first.output and "+4790000001" in first.output
    counts = (User.select().count(), Site.select().count(), Membership.select().count())
    second = runner.invoke(args=["demo-data"])
    assert second.exit_code == 0 and "0 people created" in second.output
    assert (User.select().count(), Site.select().count(), Membership.select().count()) == counts
    # The AMU has a member of each side (its page is a 404 for anyone else), once however often it is loaded.
    assert sorted((m.user.phone, m.side) for m in AmuMember.select()) == [("+4790000001", "employer"),
                                                                        ("+4790000003", "workers")]
    # One person, different roles on different sites.
    vera = User.get(User.phone == "+4790000003")
    assert sorted(m.role for m in vera.memberships) == ["verneombud", "worker"]
    # Check-in has equipment to confirm from the first visit (a new user found nothing to tick).
    required = {site.name: sorted(e.equipment.key for e in site.required_equipment) for site in Site.select()}
    assert required == {"Bjørvika kontorbygg": ["fall_arrest", "helmet", "hi_vis", "safety_shoes"],
                        "Lillestrøm skole": ["helmet", "hi_vis", "safety_shoes"]}  # a harness on one (issue 16)


def test_every_demo_worker_has_someone_on_their_site_who_may_approve_their_certificates(app, db):
    """The new-user test: Piotr (Nordlys Elektro) waited for approval for good, nobody of Nordlys being a lead."""
    assert app.test_cli_runner().invoke(args=["demo-data"]).exit_code == 0
    leads = [m for m in Membership.select() if m.role in ("foreman", "manager")]
    for person in User.select().join(Membership).distinct():
        sites = {m.site_id for m in person.memberships}
        # A lead of the person's employer on one of the person's sites (its pending page lists them).
        assert any(m.site_id in sites and competence.may_decide(m.user, person) for m in leads), person.name
    nils = User.get(User.phone == "+4790000006")
    assert [(m.site.name, m.role) for m in nils.memberships] == [("Bjørvika kontorbygg", "foreman")]


def test_migrate_is_safe_to_run_again(app, db):
    result = app.test_cli_runner().invoke(args=["migrate"])
    assert result.exit_code == 0 and "migrations applied: 0" in result.output


def test_vapid_key_pair_is_made_once_and_shown(app, tmp_path):
    from fieldapp import create_app
    from helpers import test_config

    key = app.test_cli_runner().invoke(args=["vapid-public-key"]).output.strip()
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4  # an uncompressed P-256 point: the applicationServerKey
    again = create_app(test_config(tmp_path))  # the same instance folder: the same key
    assert again.config["VAPID_PUBLIC_KEY"] == key
