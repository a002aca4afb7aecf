"""HMS statistics (issue 20): the definitions, hours from check-ins and entered hours, injuries per period."""
import uuid
from datetime import date, datetime

import pytest

from fieldapp import clock
from fieldapp.models import CheckIn, EnteredHours, HoursDay, HoursDirty, InjuryDetails, Report
from fieldapp.stats import definitions, service, tasks
from fieldapp.stats.definitions import Injury, Period

DAY = date(2026, 5, 4)


def lost(days, **kw):
    return Injury(day=DAY, absence_beyond_day=True, absence_days=days, **kw)


def worked_example_injuries():
    # Two lost-time injuries (3 and 14 days), three with medical treatment only, one moved to alternative work.
    return [lost(3), lost(14), *[Injury(day=DAY, medical_treatment=True) for _ in range(3)],
            Injury(day=DAY, alternative_work=True)]


# --- the definitions -----------------------------------------------------------------------------------------

def test_the_worked_example():
    figures = definitions.figures(412_500, worked_example_injuries())
    assert (figures.lost_time, figures.recordable, figures.absence_days) == (2, 6, 17)
    assert (round(figures.h1, 2), round(figures.h2, 2), round(figures.f, 2)) == (4.85, 14.55, 41.21)
    assert not figures.too_few


def test_lost_time_is_a_full_day_after_the_day_of_injury_and_a_fatality_counts():
    assert not definitions.is_lost_time(Injury(day=DAY, absence_days=0))
    assert definitions.is_lost_time(Injury(day=DAY, absence_days=1))
    assert definitions.is_lost_time(Injury(day=DAY, fatal=True))
    assert definitions.is_lost_time(Injury(day=DAY, absence_beyond_day=True))  # days not yet known
    # Another threshold: three days, or 24 hours of absence.
    assert not definitions.is_lost_time(Injury(day=DAY, absence_days=2), min_days=3)
    assert definitions.is_lost_time(Injury(day=DAY, absence_days=3), min_days=3)
    assert definitions.is_lost_time(Injury(day=DAY, absence_hours=30, absence_days=1), min_hours=24)
    assert not definitions.is_lost_time(Injury(day=DAY, absence_hours=7.5, absence_days=1), min_hours=24)


def test_first_aid_alone_is_not_counted_in_h2():
    figures = definitions.figures(1_000_000, [Injury(day=DAY), Injury(day=DAY, medical_treatment=True)])
    assert (figures.injuries, figures.recordable, figures.h2) == (2, 1, 1.0)


def test_zero_hours_gives_no_figure_and_says_too_few():
    figures = definitions.figures(0, [lost(3)])
    assert (figures.h1, figures.h2, figures.f) == (None, None, None)
    assert figures.too_few and figures.lost_time == 1
    assert definitions.figures(99_999, []).too_few and not definitions.figures(100_000, []).too_few


def test_periods():
    assert definitions.rolling_12(date(2026, 11, 30)) == Period(date(2025, 12, 1), date(2026, 11, 30), "rolling")
    assert definitions.rolling_12(date(2028, 2, 29)).start == date(2027, 3, 1)
    assert definitions.quarter(2026, 1) == Period(date(2026, 1, 1), date(2026, 3, 31), "quarter")
    assert definitions.month(2026, 12).end == date(2026, 12, 31)
    assert Period(date(2026, 1, 15), date(2026, 3, 2)).months() == [
        (date(2026, 1, 15), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 2))]


@pytest.mark.parametrize("args, reason, field", [
    ({"period": "range", "start": "2026-05-01", "end": "2026-04-01"}, "reversed_range", "end"),
    ({"period": "year", "year": "2027"}, "future_period", "year"),
    ({"period": "year", "year": "1999"}, "too_early", "year"),
    ({"period": "year", "year": "twenty"}, "bad_year", "year"),
    ({"period": "year", "year": "99999999999999999999"}, "bad_year", "year"),  # OverflowError in date(): a 500
    ({"period": "month", "month": "2026-99999999999999999999"}, "bad_month", "month"),
    ({"period": "year", "year": "２０２６"}, "bad_year", "year"),  # fullwidth digits: int() reads them
    ({"period": "quarter", "year": "2026", "quarter": "+2"}, "bad_quarter", "quarter"),
    ({"period": "month", "month": "2026-13"}, "bad_month", "month"),
    ({"period": "month", "month": "juni"}, "bad_month", "month"),
    ({"period": "quarter", "year": "2026", "quarter": "5"}, "bad_quarter", "quarter"),
    ({"period": "quarter", "year": "", "quarter": "2"}, "bad_year", "year"),
    ({"period": "range", "start": "yesterday", "end": "2026-04-01"}, "bad_date", "start"),
    ({"period": "range", "start": "20260301", "end": "2026-04-01"}, "bad_date", "start"),  # compact: not the field's
    ({"period": "range", "start": "2026-03-01", "end": "2026-W14-3"}, "bad_date", "end"),  # a week date
    ({"period": "decade"}, "bad_period", "period"),
])
def test_bad_periods_are_refused_and_name_the_field_to_correct(args, reason, field):
    with pytest.raises(service.StatsError) as caught:
        service.parse_period(args, date(2026, 11, 30))
    assert (caught.value.reason, caught.value.field) == (reason, field)


def test_a_year_so_far_ends_today():
    assert service.parse_period({"period": "year", "year": "2026"}, date(2026, 11, 30)).end == date(2026, 11, 30)


# --- hours and injuries from the database --------------------------------------------------------------------

def check_in(world, start, end, org="923609016", missing=()):
    """A closed check-in from start to end, given as Oslo wall-clock times."""
    return CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=None, name="Ola", employer_org_number=org,
                          checked_in_at=clock.to_utc(start, world.site), checked_out_at=clock.to_utc(end, world.site),
                          missing=list(missing))


def injury(world, when, reporter=None, **details):
    report = Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=world.site,
                           reporter=reporter or world.people["worker"], kind="injury", category="falls",
                           severity="high", happened_at=clock.to_utc(when, world.site))
    InjuryDetails.create(report=report, **details)
    return report


def figures_for(app, world, period, **kw):
    with app.app_context():
        return service.statistics([world.site], period, **kw)


def test_the_worked_example_from_the_database(app, world):
    for first, _last in Period(date(2025, 1, 1), date(2025, 12, 31)).months():
        EnteredHours.create(site=world.site, employer_org_number="923609016", month=first, hours=34_375)
    injury(world, datetime(2025, 3, 3, 10), absence_beyond_day=True, absence_days=3)
    injury(world, datetime(2025, 6, 3, 10), absence_beyond_day=True, absence_days=14)
    for month in (2, 7, 9):
        injury(world, datetime(2025, month, 12, 9), medical_treatment=True)
    injury(world, datetime(2025, 10, 1, 8), alternative_work=True)
    injury(world, datetime(2026, 1, 1, 8), absence_days=30)  # outside the year
    result = figures_for(app, world, definitions.year(2025))
    assert result.total.hours == pytest.approx(412_500)
    assert (round(result.total.h1, 2), round(result.total.h2, 2), round(result.total.f, 2)) == (4.85, 14.55, 41.21)
    assert [round(f.hours) for _first, f in result.months] == [34_375] * 12
    assert result.months[5][1].absence_days == 14


def test_a_check_in_across_midnight_the_night_summer_time_starts(app, world):
    # Oslo, 29 March 2026: 02:00 becomes 03:00. 22:00 to 06:00 is seven real hours: two on the 28th, five on the 29th.
    check_in(world, datetime(2026, 3, 28, 22), datetime(2026, 3, 29, 6))
    assert figures_for(app, world, Period(date(2026, 3, 28), date(2026, 3, 28))).total.hours == pytest.approx(2)
    assert figures_for(app, world, Period(date(2026, 3, 29), date(2026, 3, 29))).total.hours == pytest.approx(5)
    assert figures_for(app, world, Period(date(2026, 3, 1), date(2026, 3, 31))).total.hours == pytest.approx(7)


def test_a_check_in_across_a_month_boundary_is_split_at_local_midnight(app, world):
    check_in(world, datetime(2026, 1, 31, 21), datetime(2026, 2, 1, 2, 30))
    check_in(world, datetime(2026, 2, 2, 7), datetime(2026, 2, 2, 15))
    result = figures_for(app, world, Period(date(2026, 1, 1), date(2026, 2, 28)))
    assert [f.hours for _first, f in result.months] == [pytest.approx(3), pytest.approx(10.5)]
    only_feb = figures_for(app, world, definitions.month(2026, 2))
    assert only_feb.total.hours == pytest.approx(10.5)


def test_an_absence_into_the_next_month_belongs_to_the_month_of_the_injury(app, world):
    check_in(world, datetime(2026, 1, 5, 7), datetime(2026, 1, 5, 15))
    check_in(world, datetime(2026, 2, 5, 7), datetime(2026, 2, 5, 15))
    injury(world, datetime(2026, 1, 30, 14), absence_beyond_day=True, absence_days=10, returned_on=date(2026, 2, 10))
    result = figures_for(app, world, Period(date(2026, 1, 1), date(2026, 2, 28)))
    (jan_first, jan), (_feb_first, feb) = result.months
    assert (jan.lost_time, jan.absence_days, feb.lost_time, feb.absence_days) == (1, 10, 0, 0)
    assert jan.f == pytest.approx(10 * 1_000_000 / 8)


def test_an_injury_at_the_period_boundary_counts_by_the_local_date(app, world):
    # 00:30 on 1 February in Oslo is 23:30 UTC on 31 January: February's.
    injury(world, datetime(2026, 2, 1, 0, 30), fatal=True)
    assert figures_for(app, world, definitions.month(2026, 1)).total.lost_time == 0
    assert figures_for(app, world, definitions.month(2026, 2)).total.lost_time == 1


def test_open_check_ins_are_not_counted(app, world):
    CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=None, name="Kari", employer_org_number="923609016",
                   checked_in_at=clock.to_utc(datetime(2026, 3, 2, 7), world.site))
    assert figures_for(app, world, definitions.month(2026, 3)).total.hours == 0


def test_entered_hours_win_and_subcontractors_count_apart(app, world):
    check_in(world, datetime(2026, 4, 6, 7), datetime(2026, 4, 6, 15))  # own: 8 h
    check_in(world, datetime(2026, 4, 7, 7), datetime(2026, 4, 7, 12), org="987654325")  # sub: 5 h, replaced
    EnteredHours.create(site=world.site, employer_org_number="987654325", month=date(2026, 4, 1), hours=160)
    sub_worker = world.person("+4791000077", "Sub Worker", "worker", world.site, employer=world.sub)
    injury(world, datetime(2026, 4, 8, 9), reporter=sub_worker, medical_treatment=True)
    result = figures_for(app, world, definitions.month(2026, 4))
    assert result.total.hours == pytest.approx(168) and result.total.recordable == 1
    assert [(org, own, round(f.hours), f.recordable) for org, _n, own, f in result.employers] == [
        ("923609016", True, 8, 0), ("987654325", False, 160, 1)]
    assert result.replaced == [(date(2026, 4, 1), "Site A", "987654325", "Nordlys Elektro AS")]
    own = figures_for(app, world, definitions.month(2026, 4), own_only=True)
    assert (own.total.hours, own.total.recordable) == (pytest.approx(8), 0)


def test_other_figures(app, world, frozen_clock):
    frozen_clock(datetime(2026, 6, 30, 12))
    check_in(world, datetime(2026, 6, 1, 7), datetime(2026, 6, 1, 15))
    check_in(world, datetime(2026, 6, 2, 7), datetime(2026, 6, 2, 15), missing=["helmet"])
    injury(world, datetime(2026, 6, 3, 9), medical_treatment=True)
    for n in range(3):
        Report.create(uuid=uuid.uuid4(), payload_hash="0" * 64, site=world.site, reporter=world.people["worker"],
                      kind="near_miss", category="lifting", severity="high",
                      happened_at=datetime(2026, 6, 10 + n, 8), status="closed",
                      closed_at=datetime(2026, 6, 10 + n, 8) + (n + 1) * (datetime(2026, 1, 2) - datetime(2026, 1, 1)))
    other = figures_for(app, world, definitions.month(2026, 6)).other
    assert other["by_kind"] == {"injury": 1, "near_miss": 3}
    assert other["by_month"] == [(date(2026, 6, 1), 4)]
    two_months = figures_for(app, world, Period(date(2026, 5, 1), date(2026, 6, 30))).other
    assert two_months["by_month"] == [(date(2026, 5, 1), 0), (date(2026, 6, 1), 4)]
    assert other["near_miss_per_injury"] == 3
    assert other["median_days_to_close"] == pytest.approx(2) and other["p90_days_to_close"] == pytest.approx(3)
    assert other["equipment_share"] == pytest.approx(0.5)
    assert other["open_follow_ups"] == 1  # World's


def test_the_day_sums_follow_every_change_to_the_check_ins(app, world):
    # The triggers mark each change, whoever makes it: a check-out, an edit, a deletion.
    row = CheckIn.create(uuid=uuid.uuid4(), site=world.site, user=None, name="Kari", employer_org_number="923609016",
                         checked_in_at=clock.to_utc(datetime(2026, 3, 2, 7), world.site))
    march = definitions.month(2026, 3)
    assert figures_for(app, world, march).total.hours == 0
    where = CheckIn.id == row.id
    CheckIn.update(checked_out_at=clock.to_utc(datetime(2026, 3, 2, 15), world.site)).where(where).execute()
    assert figures_for(app, world, march).total.hours == pytest.approx(8)
    # Now from 23:00 on 28 February to 15:00 on 2 March: one hour in February, 39 in March.
    CheckIn.update(checked_in_at=clock.to_utc(datetime(2026, 2, 28, 23), world.site)).where(where).execute()
    months = figures_for(app, world, Period(date(2026, 2, 1), date(2026, 3, 31))).months
    assert [round(f.hours) for _first, f in months] == [1, 39]
    CheckIn.delete().where(CheckIn.id == row.id).execute()
    assert figures_for(app, world, march).total.hours == 0


def test_the_periodic_task_sums_the_changed_days(app, world):
    check_in(world, datetime(2026, 3, 2, 7), datetime(2026, 3, 2, 15))
    assert HoursDirty.select().count() == 1
    HoursDirty.create(site_id=987_654, utc_day=date(2026, 3, 2))  # a deleted site's
    with app.app_context():
        assert tasks.refresh_hours.call_local() == 1
    assert HoursDirty.select().count() == 0
    assert [(d.day, d.hours) for d in HoursDay.select()] == [(date(2026, 3, 2), 8.0)]


def test_the_chart_is_plain_svg_with_its_numbers():
    from fieldapp.stats import charts

    svg = str(charts.bar_chart([("01", 2.0), ("02", None), ("<b>", 4.0)], lambda v: f"{v:.1f}"))
    assert svg.startswith("<svg") and "style" not in svg and "<script" not in svg
    assert svg.count("<rect") == 2 and "&lt;b&gt;" in svg
    assert ">2.0<" in svg and ">4.0<" in svg and ">–<" in svg
    heights = [float(part.split('"')[0]) for part in svg.split('height="')[1:]]
    assert heights[1] == pytest.approx(2 * heights[0])  # bars in proportion to their values


def test_chart_months_are_named_in_the_readers_language_with_the_year_where_it_starts(app):
    from flask_babel import force_locale

    from fieldapp import clock
    from fieldapp.stats import charts

    firsts = [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    with app.test_request_context():
        with force_locale("nb"):
            assert clock.month_labels(firsts) == [("nov", "2025"), ("des", ""), ("jan", "2026"), ("feb", "")]
        with force_locale("en"):
            assert [label for label, _year in clock.month_labels(firsts)] == ["Nov", "Dec", "Jan", "Feb"]
            svg = str(charts.month_chart(zip(firsts, [1.0, None, 2.0, 3.0])))
    texts = [part.split("<")[0] for part in svg.split('font-size="7.5" text-anchor="middle" fill="currentColor">')[1:]]
    assert texts == ["Nov", "2025", "Dec", "Jan", "2026", "Feb"]


def test_a_long_period_labels_every_kth_bar_so_none_overlap(app):
    # 30 months at 360 px ran their labels together ("JunJulAugSept...", "0.00.00.0") and cut "2024" to "024".
    from flask_babel import force_locale

    from fieldapp.stats import charts

    firsts = [date(2024 + (5 + i) // 12, (5 + i) % 12 + 1, 1) for i in range(30)]  # June 2024 to November 2026
    with app.test_request_context(), force_locale("en"):
        svg = str(charts.month_chart([(first, 7.0) for first in firsts], lambda v: f"{v:.1f}"))
    assert svg.count("<rect") == 30
    assert svg.count(">7.0<") == 10  # every third bar: 30 / 12 rounded up
    months = [part.split("<")[0] for part in svg.split(f'y="{charts.BASE + 12}" font-size="7.5" text-anchor="middle" '
                                                       'fill="currentColor">')[1:]]
    assert months == ["Jun", "Sept", "Dec", "Mar", "Jun", "Sept", "Dec", "Mar", "Jun", "Sept"]
    years = [part.split("<")[0] for part in svg.split(f'y="{charts.BASE + 23}" font-size="7.5" text-anchor="middle" '
                                                      'fill="currentColor">')[1:]]
    assert years == ["2024", "2025", "2026"]  # the first bar and each January
    assert f'viewBox="-{charts.MARGIN} 0 ' in svg  # room beside the edges for the first and last labels


def test_a_period_of_many_years_writes_each_year_once_under_a_labelled_bar(app):
    # 2008 to 2026: a year under every January ran together ("200820092010...").
    from flask_babel import force_locale

    from fieldapp.stats import charts

    firsts = [date(2008 + i // 12, i % 12 + 1, 1) for i in range(227)]  # January 2008 to November 2026
    with app.test_request_context(), force_locale("nb"):
        svg = str(charts.month_chart([(first, 1.0) for first in firsts]))
    years = [part.split("<")[0] for part in svg.split(f'y="{charts.BASE + 23}" font-size="7.5" text-anchor="middle" '
                                                      'fill="currentColor">')[1:]]
    assert len(years) <= 12 and years == sorted(set(years)) and years[0] == "2008"
    months = svg.count(f'y="{charts.BASE + 12}" font-size="7.5"')
    assert months == 12  # every 19th of 227 bars
