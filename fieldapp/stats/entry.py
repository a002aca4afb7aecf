"""Hours entered by hand or imported from CSV, per site, employer (organisation number) and month.

CSV columns: `site, employer org number, month (YYYY-MM), hours`, and optionally a fifth, the number of people
(for the sanity check). A header line is recognised and skipped. Encodings read: UTF-8 (with or without a BOM),
then cp1252 (a superset of latin-1 for text: what Norwegian Excel saves); the delimiter (; or ,) is detected
from the first line. A decimal comma is read ("1 234,5" with ';' as delimiter).

Rules (each broken rule names its line): the site is one of the person's sites where they may enter hours
(by name, case-insensitive, or id); a valid organisation number; a month that has ended (the current month
is refused: its hours are not all worked); hours a number >= 0 and at most MAX_PER_PERSON x people, where
people is the fifth column, else the people known for that employer on the site in that month (its members
there, or the distinct people who checked in that month, whichever is more). When no people are known the
per-person check is not applied (a line is never refused for lack of a count): the Line says so
(`people_known` False) and the dry run shows it. No line has more than MAX_PER_PERSON x MAX_PEOPLE hours.
Nothing is saved unless every line is good (one transaction); the dry run checks the same and saves nothing.
A later entry for the same site, employer and month replaces the earlier one (audited with both values).
"""
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .. import audit, clock
from ..db import database
from ..inputs import InputError, InputErrors, decimal_number, whole_number
from ..models import CheckIn, EnteredHours, Membership, Organization, User
from ..sites.service import org_number_valid

MAX_PER_PERSON = 744  # 31 days x 24 hours: more per person in a month cannot be true
# People of one employer on one site: more is no building site. Caps a line whose people are not known, which
# the per-person check cannot: 1e308 hours were saved, and every statistics page and export then failed (a 500
# from the float infinity the month's scaling made).
MAX_PEOPLE = 10_000
MAX_ROWS = 5000
MAX_BYTES = 1024 * 1024
# The dry run's text sent back to be saved, form-encoded: a character of the file may take three bytes (%3B).
MAX_FORM_BYTES = 3 * MAX_BYTES + 64 * 1024


class HoursError(InputError):
    scope = "hours"


@dataclass
class Line:
    """One good line: where and how many hours; number is the file's line number (1-based), 0 for the form."""

    number: int
    site: object
    org_number: str
    month: date
    hours: float
    replaces: float | None = None
    people: int | None = None  # the count the 744 h/person check used; None: not known, so not checked
    people_known: bool = True


def decode(data):
    """Bytes of a CSV file as text: UTF-8 (BOM dropped) or else cp1252. HoursError("encoding") for neither
    (e.g. UTF-16 or a spreadsheet's binary file), HoursError("too_large") over MAX_BYTES."""
    if len(data) > MAX_BYTES:
        raise HoursError("too_large", n=MAX_BYTES // (1024 * 1024))
    if b"\x00" in data:
        raise HoursError("encoding")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # The five bytes cp1252 leaves undefined become U+FFFD: latin-1 made them C1 control characters, which the
    # confirm step's form (the text sent back) is then refused for (fieldapp/shell/errors.py).
    return data.decode("cp1252", errors="replace")


# One separator and three digits after it: "1,500" is fifteen hundred to an English reader and one and a half to a
# Norwegian one (and "1.500" the other way round). Refused rather than guessed: 1,500 hours were saved as 1.5.
AMBIGUOUS = re.compile(r"[0-9]{1,3}[.,][0-9]{3}")


def _number(text):
    """Hours as typed: ASCII digits, a decimal comma or point, spaces between thousands ("1 234,5"). ValueError for
    anything else (inputs.decimal_number); HoursError("ambiguous_hours") for "1,500" or "1.500", which readers of
    different languages read a thousand times apart."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if AMBIGUOUS.fullmatch(text):
        raise HoursError("ambiguous_hours", field="hours")
    hours = decimal_number(text)
    if hours is None:
        raise ValueError(f"not hours: {text[:40]!r}")
    return hours


MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")


def _month(text, today):
    found = MONTH.fullmatch(text.strip())  # ASCII digits: int() alone also read "２０２６" and "+3"
    try:
        first = date(int(found.group(1)), int(found.group(2)), 1) if found else None
    except ValueError:
        first = None
    if first is None:
        raise HoursError("bad_month", field="month")
    if first >= today.replace(day=1):
        raise HoursError("future_month", field="month")
    if first.year < 2000:
        raise HoursError("bad_month", field="month")
    return first


def _people_of(site, org_number, month):
    """People of the employer on the site in the month: its members there, or the distinct people who
    checked in during the month (by user, or by name for visitors), whichever is more; 0 if none known."""
    members = (Membership.select(Membership.user).distinct().join(User)
               .join(Organization, on=(User.employer == Organization.id))
               .where((Membership.site == site) & (Organization.org_number == org_number)).count())
    start = clock.to_utc(datetime.combine(month, time()), site)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    end = clock.to_utc(datetime.combine(following, time()), site)
    visitors = (CheckIn.select(CheckIn.user, CheckIn.name).distinct()
                .where((CheckIn.site == site) & (CheckIn.employer_org_number == org_number)
                       & (CheckIn.checked_in_at >= start) & (CheckIn.checked_in_at < end)).count())
    return max(members, visitors)


def check_line(sites, site_text, org_text, month_text, hours_text, people_text="", number=0):
    """One line (or the form) checked: a Line, or InputErrors with a HoursError for every field that has a problem
    (the form shows each beside its field at once; a file's line is told by its first)."""
    problems = []
    by_name = {s.name.strip().lower(): s for s in sites}
    by_id = {str(s.id): s for s in sites}
    key = (site_text or "").strip()
    site = by_id.get(key) or by_name.get(key.lower())
    if site is None:
        problems.append(HoursError("bad_site", field="site"))
    org = (org_text or "").strip().replace(" ", "")
    if not org_number_valid(org):
        problems.append(HoursError("bad_org_number", field="org_number"))
    try:
        month = _month(month_text or "", clock.today(site))
    except HoursError as exc:
        problems.append(exc)
    hours = None
    try:
        hours = _number(hours_text or "")
    except HoursError as exc:
        problems.append(exc)
    except ValueError:
        problems.append(HoursError("bad_hours", field="hours"))
    else:
        if not hours >= 0 or hours == float("inf"):
            problems.append(HoursError("bad_hours", field="hours"))
    people_text = (people_text or "").strip()
    people = whole_number(people_text) if people_text else None
    if people_text and (people is None or people < 1):
        problems.append(HoursError("bad_people", field="people"))
    if problems:
        raise InputErrors(problems)
    if not people_text:
        people = _people_of(site, org, month) or None
    # 744 h per person-month; without a known count only the largest site's hours are a limit.
    if people is not None and hours > MAX_PER_PERSON * people:
        raise HoursError("absurd_hours", field="hours", n=MAX_PER_PERSON)
    if hours > MAX_PER_PERSON * MAX_PEOPLE:
        raise HoursError("too_many_hours", field="hours")
    return Line(number, site, org, month, hours, people=people, people_known=people is not None)


def parse_csv(sites, data):
    """(good Lines, [(line number, HoursError)]) for a CSV file's bytes. HoursError for the whole file
    (encoding, empty, too many lines)."""
    text = decode(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    try:  # newline=None: lines may end in \r\n, \n or a lone \r (what Excel for old Macs saves)
        rows = list(csv.reader(io.StringIO(text, newline=None), delimiter=delimiter))
    except csv.Error:  # a field longer than csv's limit (128 KB), or a broken quote: no CSV a person saved
        raise HoursError("encoding") from None
    if len(rows) > MAX_ROWS + 1:
        raise HoursError("too_many_rows", n=MAX_ROWS)
    good, bad, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and not any(ch.isdigit() for ch in "".join(cells[1:3])):
            continue  # a header line
        if len(cells) not in (4, 5):
            bad.append((number, HoursError("columns")))
            continue
        try:
            line = check_line(sites, *cells, number=number)
        except InputError as exc:  # InputErrors: the line is told by its first problem
            bad.append((number, exc))
            continue
        key = (line.site.id, line.org_number, line.month)
        if key in seen:
            bad.append((number, HoursError("duplicate")))
            continue
        seen.add(key)
        good.append(line)
    if not good and not bad:
        raise HoursError("empty_file")
    _mark_replaced(good)
    return good, bad


def _mark_replaced(lines):
    for line in lines:
        existing = EnteredHours.get_or_none((EnteredHours.site == line.site) & (EnteredHours.employer_org_number
                                                                                == line.org_number)
                                            & (EnteredHours.month == line.month))
        line.replaces = existing.hours if existing else None


def save(actor, lines):
    """Save every line in one transaction (all or none), each audited; returns how many."""
    with database.atomic():
        for line in lines:
            row = EnteredHours.get_or_none((EnteredHours.site == line.site)
                                           & (EnteredHours.employer_org_number == line.org_number)
                                           & (EnteredHours.month == line.month))
            before = {"hours": row.hours} if row else None
            if row is None:
                row = EnteredHours.create(site=line.site, employer_org_number=line.org_number, month=line.month,
                                          hours=line.hours, entered_by=actor)
            else:
                row.hours, row.entered_by, row.entered_at = line.hours, actor, clock.utcnow()
                row.save()
            audit.record(actor, "hours.enter", "entered_hours", row.id, before,
                         {"site": line.site.id, "employer": line.org_number, "month": line.month.isoformat()[:7],
                          "hours": line.hours})
    return len(lines)


def remove(actor, sites, row_id):
    """Remove one entered row of one of `sites` (where the actor may enter hours): the check-in hours of that site,
    employer and month count again. Audited. False when there is no such row on those sites (the view: 404)."""
    with database.atomic():
        row = EnteredHours.get_or_none((EnteredHours.id == row_id)
                                       & EnteredHours.site.in_([site.id for site in sites]))
        if row is None:
            return False
        row.delete_instance()
        audit.record(actor, "hours.remove", "entered_hours", row.id,
                     {"site": row.site_id, "employer": row.employer_org_number,
                      "month": row.month.isoformat()[:7], "hours": row.hours}, None)
    return True


def recent(sites, limit=24):
    """The latest entered hours of the sites, newest month first: [(EnteredHours, site)]."""
    by_id = {s.id: s for s in sites}
    rows = (EnteredHours.select().where(EnteredHours.site.in_(list(by_id)))
            .order_by(EnteredHours.month.desc(), EnteredHours.id.desc()).limit(limit))
    return [(row, by_id[row.site_id]) for row in rows]
