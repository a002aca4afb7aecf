"""CSV import of training records by a manager: a dry run lists every change and every row's error, and the
import itself saves all rows in one transaction or none (never half an import).

Who imports for whom (the rule of approval, competence.service.may_decide; AML § 2-1): a manager on the site
imports for the people their own organization employs, and those records are saved approved. For a person on
the site employed by another organization (a subcontractor's worker) the record is saved waiting for approval
by a foreman or manager of that employer, as if the person had sent it: the import never approves for another
employer. Anyone else's phone number is an error of the row."""
import csv
import io
import uuid as uuidlib
from dataclasses import dataclass, field

from .. import audit, clock, inputs
from ..accounts.service import normalize_phone
from ..db import database
from ..models import Membership, Organization, TrainingRecord, User
from .service import CompetenceError, _payload_hash, may_decide, org_of, record_fields

COLUMNS = ("phone", "course", "taken_on", "expires_on", "issuer", "certificate_number")
REQUIRED = ("phone", "course", "taken_on")
MAX_ROWS = 5000
# Import rows are keyed by person, course and date: importing the same file again adds nothing.
NAMESPACE = uuidlib.UUID("6c1e0c52-9a53-4f0b-8f4e-1b9a3c6d2e19")


@dataclass
class Row:
    line: int
    phone: str
    name: str = ""
    course: str = ""
    taken_on: object = None
    expires_on: object = None
    action: str = ""  # "add", "unchanged" or "error"
    errors: list = field(default_factory=list)  # every problem of the row (the person's and the record's)
    waits_for: str = ""  # the employer whose foreman or manager approves it ("": saved approved)

    @property
    def error(self):
        return " ".join(self.errors)


@dataclass
class Result:
    rows: list = field(default_factory=list)
    applied: bool = False
    text: str = ""

    @property
    def errors(self):
        return [r for r in self.rows if r.action == "error"]

    @property
    def added(self):
        return [r for r in self.rows if r.action == "add"]


def read_text(data):
    """The upload's bytes as text; CompetenceError csv_unreadable/csv_too_many.

    Each line is read on its own: UTF-8 (a BOM allowed at the start), else Windows-1252 (what Excel on a
    Norwegian Windows saves as "CSV (semicolon separated)": æ, ø and å are single bytes there that are not
    valid UTF-8). A file mixing the two (a line pasted from another program) is read right line by line,
    never turned whole into "FÃ¸rstehjelp". Bytes that are neither, or C0 control characters other than tab
    and line breaks, are not a text file: csv_unreadable. C1 controls (U+0080 to U+009F) and the bidi controls
    that reorder text on screen (U+202A-E, U+2066-9, U+200E/F, U+061C) are refused with the line:
    csv_invisible.
    """
    if len(data) > 2 * 1024 * 1024:
        raise CompetenceError("csv_too_many", n=MAX_ROWS)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = []
    for raw in data.split(b"\n"):  # bounded by the size cap; "\n" is one byte in both encodings
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                lines.append(raw.decode("cp1252"))
            except UnicodeDecodeError:
                raise CompetenceError("csv_unreadable") from None
    for number, line in enumerate(lines, start=1):
        if any(ord(c) < 32 and c not in "\t\r" for c in line):
            raise CompetenceError("csv_unreadable")
        if any(0x80 <= ord(c) <= 0x9F or c in _BIDI for c in line):
            raise CompetenceError("csv_invisible", line=number)
    return "\n".join(lines)


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def parse(text):
    """[(line number, {column: value})]; CompetenceError for wrong columns, no rows or too many.

    Semicolons (Norwegian Excel) or commas; the first row names the columns, in any order.
    """
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=None), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise CompetenceError("csv_empty") from None
    except csv.Error:  # a field longer than csv's limit (128 KB): no CSV a person saved
        raise CompetenceError("csv_unreadable") from None
    if (any(name not in COLUMNS for name in header) or any(name not in header for name in REQUIRED)
            or len(set(header)) != len(header)):
        raise CompetenceError("csv_columns", columns=", ".join(COLUMNS))
    rows = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CompetenceError("csv_too_many", n=MAX_ROWS)
            rows.append((reader.line_num, dict(zip(header, (c.strip() for c in cells)))))
    except csv.Error:
        raise CompetenceError("csv_unreadable") from None
    if not rows:
        raise CompetenceError("csv_empty")
    return rows


def run(actor, site, text, dry_run=True):
    """Check every row; unless dry_run and when no row has an error, save the new ones in one transaction.

    Rows: the person (by phone) must work for the actor's organization, or be on the site (then the record
    waits for their employer's approval: see the module's docstring); the course type must be in the actor's
    organization's catalogue; dates ISO or DD.MM.YYYY, taken not in the future (the site's day), expiry not
    before it; the same person, course and date twice in the file is an error. Each row lists all its errors
    (an unknown person and an unknown course both). A record already saved is "unchanged".
    Returns a Result; CompetenceError for a file that cannot be read as a whole.
    """
    parsed = parse(text)
    organization = org_of(actor)
    phones = {normalize_phone(values.get("phone")) for _line, values in parsed} - {None}
    on_site = {user_id for (user_id,) in Membership.select(Membership.user)
               .where(Membership.site == site).tuples()}
    people = {u.phone: u for u in User.select().where(User.phone.in_(list(phones)))
              if org_of(u) == organization or u.id in on_site}
    employers = dict(Organization.select(Organization.id, Organization.name)
                     .where(Organization.id.in_({org_of(u) for u in people.values()} - {None})).tuples()
                     ) if people else {}
    today = clock.today(site)
    result = Result(text=text)
    seen = set()
    planned = []
    for line, values in parsed:
        row = Row(line, values.get("phone", ""))
        result.rows.append(row)
        person = people.get(normalize_phone(values.get("phone")))
        fields = None
        if person is None:
            row.errors.append(inputs.problem(CompetenceError("csv_unknown_person"))[1])
        else:
            row.name = person.name
            if not may_decide(actor, person):
                row.waits_for = employers.get(org_of(person), "")
        try:
            fields = record_fields(organization, values, today)
            row.course, row.taken_on, row.expires_on = fields["course"], fields["taken_on"], fields["expires_on"]
        except CompetenceError as exc:
            row.errors.append(inputs.problem(exc)[1])
        if person is not None and fields is not None:
            key = (person.id, fields["course"], fields["taken_on"])
            if key in seen:
                row.errors.append(inputs.problem(CompetenceError("csv_duplicate"))[1])
            seen.add(key)
        if row.errors:
            row.action = "error"
            continue
        record_uuid = uuidlib.uuid5(NAMESPACE, f"{person.id}/{fields['course']}/{fields['taken_on'].isoformat()}")
        row.action = "add"
        planned.append((row, person, record_uuid, fields))
    existing = {u for (u,) in TrainingRecord.select(TrainingRecord.uuid)
                .where(TrainingRecord.uuid.in_([p[2] for p in planned])).tuples()} if planned else set()
    for row, _person, record_uuid, _fields in planned:
        if record_uuid in existing:
            row.action = "unchanged"
    if dry_run or result.errors:
        return result
    with database.atomic():
        for row, person, record_uuid, fields in planned:
            if row.action != "add":
                continue
            decided = dict(status="pending")  # another employer's person: their foreman or manager approves
            if may_decide(actor, person):
                decided = dict(status="approved", decided_by=actor, decided_at=clock.utcnow())
            record = TrainingRecord.create(uuid=record_uuid, payload_hash=_payload_hash(person, fields, {}),
                                           user=person, created_by=actor, **decided, **fields)
            audit.record(actor, "competence.record.import", "training_record", record.id,
                         after=audit.snapshot(record, ("user", "course", "taken_on", "expires_on", "status")))
    result.applied = True
    return result
