"""Pages show what is true now: no per-process caches of rendered rows, URLs or translations (issue 15)."""
from datetime import date

from fieldapp.models import User
from fieldapp.sites import service as sites


def test_the_people_list_gets_dates_as_dates_on_every_database(world):
    """Rows come through peewee's public .tuples(), which converts each column by its field: the card's
    expiry is a date on SQLite (stored as text) as on PostgreSQL, with no conversion by hand."""
    User.update(hms_card_expiry=date(2020, 1, 31)).where(User.id == world.people["worker"].id).execute()
    members, _invitations = sites.people_on(world.site)
    worker = next(row for row in members if row.user_id == world.people["worker"].id)
    assert worker.hms_card_expiry == date(2020, 1, 31)
    assert isinstance(worker.hms_card_expiry, date)
    assert worker.enrolled and worker.employer_name == "Fjordbygg AS"
