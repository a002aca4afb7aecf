"""Faults a new user found on the responsibilities page and the verneombud register (uxfix brief).

1. One rule, one verdict: AML § 6-1 (1) (five or more workers need a verneombud; fewer may agree another
   arrangement in writing) gives the same status in the employer's row and the verneombud's rows.
2. A fix or evidence link on the page is a link only for those whose role may open it; others read who does it.
4. A person registered as verneombud whose site role is not "verneombud" is warned about on the register page.
"""
import re
import uuid
from datetime import date, datetime, timedelta

import pytest

from helpers import duties_period, duties_scope

from fieldapp.duties import rules, service
from fieldapp.models import Membership, SafetyRound, User, VerneombudTerm
from fieldapp.rounds import service as rounds

TODAY = date(2026, 6, 15)
HREF_RE = re.compile(r'href="(/s/[^"#]*)')


@pytest.fixture
def at_noon(frozen_clock):
    frozen_clock(datetime(2026, 6, 15, 10, 0))


def add_workers(world, n):
    for i in range(n):
        world.person(f"+4795{i:06d}", f"Worker {i}", "worker", world.site)


def register_term(world, user, start=TODAY - timedelta(days=30), role="verneombud"):
    return VerneombudTerm.create(organization=world.org, user=user, site=world.site, role=role, how="election",
                                 elected_from=start, elected_to=service.term_end(start), notice_on=start)


def verdicts(world):
    with_rules = (rules.verneombud_in_place, rules.verneombud_term, rules.verneombud_training)
    return {f.__name__: f(duties_scope(world), duties_period(TODAY), TODAY).status for f in with_rules}


# --- 1. one rule, one verdict ---------------------------------------------------------------------------------

def test_fewer_than_five_workers_without_verneombud_is_at_risk_in_every_row(app, world, at_noon):
    # World: worker, foreman and verneombud (3 workers), nothing in the register.
    with app.test_request_context():
        assert set(verdicts(world).values()) == {rules.AT_RISK}, verdicts(world)


def test_five_workers_without_verneombud_is_not_met_in_every_row(app, world, at_noon):
    add_workers(world, 2)
    with app.test_request_context():
        assert set(verdicts(world).values()) == {rules.NOT_MET}, verdicts(world)


def test_the_page_shows_one_verdict_for_the_missing_verneombud(app, world, at_noon, as_role):
    page = as_role("manager").get(f"/s/{world.site.id}/duties").get_data(as_text=True)
    for key in ("verneombud_in_place", "verneombud_term"):
        assert f'data-duty="{key}" data-status="at_risk"' in page, key
    assert "Ingen verneombud er registrert." not in page  # the manager reads nb


# --- 2. fix links only for those who may open them ------------------------------------------------------------

@pytest.mark.parametrize("role", ["foreman", "verneombud", "manager"])
@pytest.mark.parametrize("scope", ["site", "org"])
def test_every_link_on_the_duties_page_opens_for_the_person_who_sees_it(app, world, at_noon, as_role, role, scope):
    client = as_role(role)
    page = client.get(f"/s/{world.site.id}/duties?scope={scope}").get_data(as_text=True)
    links = set(HREF_RE.findall(page))
    assert links, "the page has links"
    refused = {link: client.get(link).status_code for link in links}
    refused = {link: code for link, code in refused.items() if code in (401, 403, 404)}
    assert refused == {}, f"{role} sees links they may not open"


@pytest.mark.parametrize("language,fix,who", [("en", "Set a meeting schedule.", "A manager does this."),
                                              ("nb", "Sett opp en møteplan.", "En leder gjør dette.")])
def test_a_foreman_reads_who_sets_the_meeting_schedule(app, world, at_noon, as_role, language, fix, who):
    User.update(language=language).where(User.id.in_([world.people["foreman"].id,
                                                      world.people["manager"].id])).execute()
    settings = f"/s/{world.site.id}/meetings/settings"
    foreman = as_role("foreman").get(f"/s/{world.site.id}/duties").get_data(as_text=True)
    manager = as_role("manager").get(f"/s/{world.site.id}/duties").get_data(as_text=True)
    assert fix in foreman and settings not in foreman
    assert who in foreman and fix in manager
    assert f'href="{settings}' in manager


# --- 4. a registered verneombud without the site role ---------------------------------------------------------

@pytest.mark.parametrize("language,warning,button", [
    ("en", "does not have the verneombud role on this site", "Give the verneombud role"),
    ("nb", "har ikke rollen verneombud på denne byggeplassen", "Gi rollen verneombud")])
def test_register_warns_of_a_verneombud_without_the_site_role(app, world, at_noon, as_role, language, warning,
                                                              button):
    User.update(language=language).where(User.id == world.people["manager"].id).execute()
    elected, member = world.people["worker"], world.people["verneombud"]
    register_term(world, elected)
    register_term(world, member, role="deputy")
    page = as_role("manager").get(f"/s/{world.site.id}/verneombud").get_data(as_text=True)
    warnings = re.findall(r'<div class="warning role-missing"[^>]*data-user="(\d+)"[^>]*>(.*?)</div>', page, re.S)
    assert [int(u) for u, _text in warnings] == [elected.id]  # not the one whose site role is "verneombud"
    text = warnings[0][1]
    assert warning in text and elected.name in text
    assert f'action="/s/{world.site.id}/people/{elected.id}/role"' in text and button in text


def test_the_one_click_gives_the_role_and_the_warning_goes(app, world, at_noon, as_role):
    elected = world.people["worker"]
    register_term(world, elected)
    manager = as_role("manager")
    response = manager.post(f"/s/{world.site.id}/people/{elected.id}/role", data={"role": "verneombud"})
    assert response.status_code == 303
    assert Membership.get(Membership.user == elected, Membership.site == world.site).role == "verneombud"
    assert 'class="warning role-missing"' not in manager.get(f"/s/{world.site.id}/verneombud").get_data(as_text=True)
    assert as_role("worker").get(f"/s/{world.site.id}/duties").status_code == 200  # the worker is now verneombud


def test_a_foreman_reads_who_gives_the_role(app, world, at_noon, as_role):
    # A foreman may open the register but not change roles: the warning, without the button.
    elected = world.people["worker"]
    register_term(world, elected)
    User.update(language="en").where(User.id == world.people["foreman"].id).execute()
    page = as_role("foreman").get(f"/s/{world.site.id}/verneombud").get_data(as_text=True)
    assert "does not have the verneombud role on this site" in page
    assert f"/people/{elected.id}/role" not in page and "A manager does this." in page


def finished_round(world):
    version = rounds.current_version(rounds.templates_for(world.site)[0])
    return SafetyRound.create(uuid=uuid.uuid4(), site=world.site, version=version, started_by=world.people["manager"],
                              started_at=datetime(2026, 6, 15, 8, 0), finished_at=datetime(2026, 6, 15, 9, 0),
                              finished_by=world.people["manager"])


@pytest.mark.parametrize("language,mark", [("en", "registered"), ("nb", "registrert")])
def test_the_registered_verneombud_comes_first_and_marked_in_who_signs(app, world, at_noon, as_role, language, mark):
    walk = finished_round(world)
    elected = world.people["worker"]
    register_term(world, elected)
    assert rounds.signers_for(walk)["verneombud"][0].id == elected.id
    User.update(language=language).where(User.id == world.people["manager"].id).execute()
    page = as_role("manager").get(f"/s/{world.site.id}/rounds/{walk.uuid}").get_data(as_text=True)
    select = page[page.index('id="signer-verneombud"'):]
    select = select[:select.index("</select>")]
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', select)
    assert int(options[0][0]) == elected.id and f"({mark})" in options[0][1]
    assert all(f"({mark})" not in text for _id, text in options[1:])


def test_english_headings_and_role_names_say_safety_representative(as_role, world, at_noon):
    """GLOSSARY.md rule 1: a heading or role name gives the translation with the Norwegian word in brackets. The
    English register, its role choice and the duties page said a bare "Verneombud" (new-user test)."""
    User.update(language="en").where(User.id == world.people["manager"].id).execute()
    manager = as_role("manager")
    register = manager.get(f"/s/{world.site.id}/verneombud").get_data(as_text=True)
    assert "<h1>Register of safety representatives (verneombud)</h1>" in register
    assert ">Safety representative (verneombud)</option>" in register
    assert not re.search(r">\s*Verneombud( register)?\s*<", register)
    duties = manager.get(f"/s/{world.site.id}/duties").get_data(as_text=True)
    assert "Register of safety representatives (verneombud)" in duties
