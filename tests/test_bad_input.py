"""Bad input found by an attack (issue 24's fixes): huge ids, odd digits, absurd dates and numbers answer with a
clear 4xx, never a 500, and nothing is half-saved."""
import re

import pytest
from helpers import ACCESS
from werkzeug.routing import IntegerConverter

HUGE = "99999999999999999999999"  # over 2**64: int() reads it, the database cannot
JUST_OVER = str(2**63)  # one over the largest 64-bit id
INT_FIELDS = ("site", "worker", "follow_up", "report", "alert", "sja", "checklist", "certificate", "requirement",
              "meeting", "amu", "order")


def huge_path(template, world, huge):
    """ACCESS's path with every id (placeholder or literal number segment) replaced by `huge`."""
    path = re.sub(r"/[0-9]+(?=/|$)", "/" + huge, template)
    ids = dict.fromkeys(INT_FIELDS, huge)
    return path.format(token=world.site.qr_token, photo="0" * 64, sja_uuid=world.sja.uuid, round=world.round.uuid,
                       document="0" * 64, **ids)


def has_int(app, endpoint):
    return any(isinstance(conv, IntegerConverter) for rule in app.url_map.iter_rules(endpoint)
               for conv in rule._converters.values())


@pytest.mark.parametrize("huge", [HUGE, JUST_OVER])
@pytest.mark.parametrize("endpoint", sorted(ACCESS))
def test_a_huge_id_in_any_route_is_404_not_500(app, world_with_records, as_role, endpoint, huge):
    method, template, _who = ACCESS[endpoint]
    client = as_role("manager")
    path = huge_path(template, world_with_records, huge)
    response = client.post(path, data={}) if method == "POST" else client.get(path)
    assert response.status_code < 500, (path, response.status_code)
    if has_int(app, endpoint) and huge in path:
        assert response.status_code in (404, 405), (path, response.status_code)  # no route: not found


def test_the_largest_id_still_routes(app):
    adapter = app.url_map.bind("localhost")
    endpoint, args = adapter.match(f"/s/{2**63 - 1}/inspections")
    assert args["site_id"] == 2**63 - 1
