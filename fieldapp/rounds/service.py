"""Safety walkarounds (vernerunder): checklist templates in versions, rounds made on the phone, answers saved
once per item, findings as follow-up reports, sign-off by both sides, and when the next round is due.

Rules (issue 18):
- A round is made with a UUID on the phone: sent twice = saved once; the same UUID for another site or
  version is a conflict (409).
- Each answer is its own item (a UUID of its own), upserted by (round, item): the answer with the later
  recorded time (fieldapp/phone_time.py) wins; an older one that arrives later is kept out (its photos are
  still added). A deviation (avvik) needs a note. An answer to another version than the round's is refused.
- Every deviation becomes a follow-up item: a Report of kind "finding" linked from the answer row
  (RoundAnswer.finding), with the answer's photos, followed up as every report is (assignee, deadline,
  corrective action, after-photo, close). An answer changed away from deviation closes its finding.
- Finishing needs every item answered. Both sides sign: the verneombud and the employer's side (foreman or
  manager), AML §§ 6-1, 6-2; each once. Once finished nothing is changed; corrections are notes.
- Round interval: RoundSchedule.interval_days (default 7), counted from the last round's day on the site's clock.
"""
import hashlib
import json
import uuid as uuidlib
from datetime import timedelta

from flask_babel import gettext
from peewee import JOIN, IntegrityError, fn

from .. import audit, clock, isolate, photos, signatures
from ..alerts import service as alerts
from ..alerts import tasks as alert_tasks
from ..authz import roles_with
from ..db import database, locked, replayed_since
from ..i18n import localized
from ..inputs import InputError, free_text, whole_number
from ..models import (REPORT_CATEGORIES, ROUND_ANSWERS, ROUND_SIDES, AuditEvent, ChecklistTemplate, ChecklistVersion,
                      Membership, Photo, Report, ReportEvent, RoundAnswer, RoundNote, RoundPhoto, RoundSchedule,
                      RoundSignature, SafetyRound, Site, User, VerneombudTerm, utcnow)
from . import builtin

MAX_NOTE = 2000
MAX_SUMMARY = 4000
MAX_PHOTOS = 4  # per answer
MAX_NAMES = 20  # typed participant names
MAX_NAME = 200
MAX_INTERVAL = 90
MAX_TEMPLATE_LINES = 400
DEFAULT_INTERVAL = 7
SIDE_ROLES = {"verneombud": ("verneombud",), "employer": ("foreman", "manager")}


class RoundError(InputError):
    """Bad input or a rule that says no (reason: a key of fieldapp.inputs.messages()); nothing was saved."""

    scope = "round"


# --- templates ------------------------------------------------------------------------------------------

def text(entry, language):
    """A title or item's words in `language`: {"msgid": english} is translated, {code: text} localized()."""
    if not entry:
        return ""
    if "msgid" in entry:
        return gettext(entry["msgid"])
    return localized(entry, language)


def builtin_template():
    """The built-in template, made (or given a new version when the code's wording changed) on first use."""
    sections = builtin.sections()
    template = ChecklistTemplate.get_or_none(ChecklistTemplate.key == builtin.KEY)
    if template is None:
        try:
            with database.atomic():
                template = ChecklistTemplate.create(key=builtin.KEY, names={"msgid": builtin.NAME}, current=1)
                ChecklistVersion.create(template=template, number=1, sections=sections)
        except IntegrityError:
            template = ChecklistTemplate.get(ChecklistTemplate.key == builtin.KEY)
    current = current_version(template)
    if current.sections != sections:
        _new_version(template, sections, None)
    return template


def current_version(template):
    return ChecklistVersion.get((ChecklistVersion.template == template) & (ChecklistVersion.number == template.current))


def _new_version(template, sections, actor):
    with database.atomic():
        number = (ChecklistVersion.select(fn.MAX(ChecklistVersion.number))
                  .where(ChecklistVersion.template == template).scalar() or 0) + 1
        version = ChecklistVersion.create(template=template, number=number, sections=sections, created_by=actor)
        ChecklistTemplate.update(current=number).where(ChecklistTemplate.id == template.id).execute()
        template.current = number
        audit.record(actor, "checklist.version", "checklist_template", template.id, after={"version": number})
    return version


def templates_for(site):
    """[ChecklistTemplate]: the built-in one first, then the site's organization's own (not archived)."""
    builtin_template()
    return list(ChecklistTemplate.select()
                .where((ChecklistTemplate.key == builtin.KEY)
                       | ((ChecklistTemplate.organization == site.organization_id)
                          & ChecklistTemplate.archived_at.is_null()))
                .order_by(ChecklistTemplate.organization.is_null(False), ChecklistTemplate.id))


def template_for(site, template_id):
    """The template if the site may use it, else None."""
    try:
        template_id = int(template_id)
    except (TypeError, ValueError):
        return None
    return next((t for t in templates_for(site) if t.id == template_id), None)


def version_for(site, version_id):
    """A ChecklistVersion of a template the site may use, else None."""
    version_id = whole_number(version_id)
    if version_id is None:
        return None
    version = ChecklistVersion.get_or_none(ChecklistVersion.id == version_id)
    if version is None:
        return None
    template = version.template
    if template.key != builtin.KEY and template.organization_id != site.organization_id:
        return None
    return version


def shown_sections(version, language):
    """[{"key", "title", "items": [{"key", "text"}]}] in `language`, for pages and the PDF."""
    return [{"key": s["key"], "title": text(s["title"], language),
             "items": [{"key": i["key"], "text": text(i["text"], language)} for i in s["items"]]}
            for s in version.sections]


def item_keys(version):
    return [i["key"] for s in version.sections for i in s["items"]]


def copy_template(actor, site, template, language):
    """A new template of the site's organization with the wording of `template`'s current version. The same
    template copied again by the same person within db.REPLAY_SECONDS (a double tap) is the copy made: one, not
    two; a copy of that copy is a new one."""
    version = current_version(template)
    name = text(template.names, language)
    with database.atomic():
        locked(Site, site.id)  # the same form sent twice at once: the second finds the first's copy
        # The copies this person made in the window, by what they were copied from (the audit's "from").
        recent = (AuditEvent.select(AuditEvent.record_id, AuditEvent.after)
                  .where((AuditEvent.action == "checklist.copy") & (AuditEvent.actor == actor.id)
                         & (AuditEvent.at >= replayed_since())).tuples())
        for record_id, after in recent:
            if json.loads(after or "{}").get("from") == template.id:
                made = ChecklistTemplate.get_or_none(ChecklistTemplate.id == int(record_id))
                if made is not None and made.organization_id == site.organization_id:
                    return made
        copy = ChecklistTemplate.create(organization=site.organization_id, names={language: name}, current=1)
        ChecklistVersion.create(template=copy, number=1, sections=version.sections, created_by=actor)
        audit.record(actor, "checklist.copy", "checklist_template", copy.id, after={"from": template.id})
    return copy


def as_outline(version, language):
    """The version as the editor's text: "# Section" lines, each followed by "- item" lines."""
    lines = []
    for section in shown_sections(version, language):
        lines.append("# " + section["title"])
        lines.extend("- " + item["text"] for item in section["items"])
    return "\n".join(lines)


def edit_template(actor, template, name, outline, language):
    """A new version of an organization's template from the editor's text in `language`.

    An item or title whose words did not change keeps its other languages; a changed one keeps only the
    new words (the old translations no longer say the same). Rounds keep the version they were done with.
    Raises RoundError: outline_empty, outline_items (a section without items), too_long.
    """
    name = free_text(name)
    if len(name) > MAX_NAME:
        raise RoundError("too_long", field="name", n=MAX_NAME)
    lines = [line.strip() for line in (outline or "").replace("\r\n", "\n").split("\n") if line.strip()]
    if len(lines) > MAX_TEMPLATE_LINES:
        raise RoundError("outline_long", field="outline", n=MAX_TEMPLATE_LINES)
    old = {}
    for section in current_version(template).sections:
        old[("s", text(section["title"], language))] = (section["title"], section.get("category", "other"))
        for item in section["items"]:
            old[("i", text(item["text"], language))] = item["text"]
    sections = []
    for line in lines:
        words = line.lstrip("#-* ").strip()
        if len(words) > MAX_NOTE:
            raise RoundError("too_long", field="outline", n=MAX_NOTE)
        if not words:
            continue
        if line.startswith("#"):
            title, category = old.get(("s", words), ({language: words}, "other"))
            sections.append({"key": f"s{len(sections) + 1}", "category": category, "title": title, "items": []})
        else:
            if not sections:
                sections.append({"key": "s1", "category": "other", "title": {language: name}, "items": []})
            section = sections[-1]
            section["items"].append({"key": f"{section['key']}i{len(section['items']) + 1}",
                                     "text": old.get(("i", words), {language: words})})
    if not sections:
        raise RoundError("outline_empty", field="outline")
    if any(not s["items"] for s in sections):
        raise RoundError("outline_items", field="outline")
    with database.atomic():
        names = dict(template.names or {})
        if name:
            names[language] = name
            ChecklistTemplate.update(names=names).where(ChecklistTemplate.id == template.id).execute()
        if sections != current_version(template).sections:
            return _new_version(template, sections, actor)
    return current_version(template)


# --- rounds ------------------------------------------------------------------------------------------------

def start_round(site, user, round_uuid, version_id, when):
    """(SafetyRound, created). when: phone_time.PhoneTime. RoundError: bad_version (422), uuid_conflict (409)."""
    version = version_for(site, version_id)
    if version is None:
        raise RoundError("bad_version")
    existing = SafetyRound.get_or_none(SafetyRound.uuid == round_uuid)
    if existing is not None:
        # The same start sent again: the round saved. Another person's, or another site's, is not this one.
        if (existing.site_id, existing.version_id, existing.started_by_id) != (site.id, version.id, user.id):
            raise RoundError("uuid_conflict")
        return existing, False
    try:
        with database.atomic():
            row = SafetyRound.create(uuid=round_uuid, site=site, version=version, started_by=user,
                                     started_at=when.recorded, phone_at=when.claimed, received_at=when.received)
            audit.record(user, "round.create", "safety_round", row.id,
                         after={"site": site.id, "version": version.id, "uuid": str(round_uuid)})
        return row, True
    except IntegrityError:
        existing = SafetyRound.get_or_none(SafetyRound.uuid == round_uuid)  # a resend won the race: one round
        if existing is None or (existing.site_id, existing.version_id, existing.started_by_id) != (
                site.id, version.id, user.id):
            raise RoundError("uuid_conflict") from None
        return existing, False


def get_round(site, round_uuid):
    return (SafetyRound.select(SafetyRound, ChecklistVersion).join(ChecklistVersion)
            .where((SafetyRound.site == site) & (SafetyRound.uuid == round_uuid)).first())


def answers_of(safety_round):
    """{item key: RoundAnswer} with .photo_rows and .finding_report attached (three queries)."""
    rows = list(RoundAnswer.select(RoundAnswer, User).join(User, on=(RoundAnswer.answered_by == User.id))
                .where(RoundAnswer.round == safety_round))
    ids = [r.id for r in rows]
    shots = {}
    for photo in RoundPhoto.select().where(RoundPhoto.answer.in_(ids) if ids else False).order_by(RoundPhoto.id):
        shots.setdefault(photo.answer_id, []).append(photo)
    reports = {r.id: r for r in Report.select().where(Report.id.in_([a.finding_id for a in rows if a.finding_id]))} \
        if any(a.finding_id for a in rows) else {}
    for row in rows:
        row.photo_rows = shots.get(row.id, [])
        row.finding_report = reports.get(row.finding_id)
    return {row.item_key: row for row in rows}


def _clean_note(note, required):
    note = free_text(note)
    if len(note) > MAX_NOTE:
        raise RoundError("too_long", field="note", n=MAX_NOTE)
    if required and not note:
        raise RoundError("note_required", field="note")
    return note


def _refuse_if_closed(safety_round):
    if safety_round.signed_at is not None or RoundSignature.select().where(
            RoundSignature.round == safety_round).exists():
        raise RoundError("signed")
    if safety_round.finished_at is not None:
        raise RoundError("finished")


def _lock_round(safety_round):
    """Inside a transaction, as its first statement: take the round row's write lock (SQLite's writer lock,
    PostgreSQL's row lock) and read it again under it. An answer, a finish and a discard sent at the same moment
    then run one after the other, each seeing what the one before did: no answer lands in a finished round,
    and none is told "saved" while its round is discarded. RoundError "discarded" (409) when the round is gone;
    else the fresh round's state is copied onto `safety_round`."""
    if not SafetyRound.update(finished_at=SafetyRound.finished_at).where(SafetyRound.id == safety_round.id).execute():
        raise RoundError("discarded")
    fresh = SafetyRound.get_by_id(safety_round.id)
    safety_round.finished_at, safety_round.signed_at = fresh.finished_at, fresh.signed_at


def _finding_text(safety_round, item_key, note, language):
    for section in safety_round.version.sections:
        for item in section["items"]:
            if item["key"] == item_key:
                return section, f"{text(section['title'], language)}: {text(item['text'], language)}\n{note}"
    return {"category": "other"}, note


def _process(uploads):
    """[photos.Processed] of the answer's photos; a photo that cannot be used is left out (its reason kept)."""
    processed, dropped = [], []
    budget = photos.Budget()
    for number, upload in enumerate(uploads, 1):
        try:
            if upload.problem:
                raise photos.PhotoError(upload.problem)
            processed.append(photos.process(upload.data, budget=budget))
        except photos.PhotoError as exc:
            dropped.append({"n": number, "name": upload.name, "reason": exc.reason})
    return processed, dropped


def answer_item(store, safety_round, user, answer_uuid, version_id, item_key, answer, note, uploads, when,
                language="nb", attempt=0):
    """(RoundAnswer, status) with status "created", "updated", "same" (a resend) or "older" (a later answer
    was already there and stays; this one's photos are added). uploads: [reports.service.Upload].

    RoundError: finished / signed (409), version_changed (409), bad_item (422), bad_answer (422),
    note_required (422), too_long (422), too_many_photos (422), answer_conflict (409: the same UUID with
    other content). Photos that cannot be used are left out and returned in .dropped.
    """
    if str(version_id or "") != str(safety_round.version_id):
        raise RoundError("version_changed")
    if item_key not in item_keys(safety_round.version):
        raise RoundError("bad_item")
    if answer not in ROUND_ANSWERS:
        raise RoundError("bad_answer", field="answer")
    note = _clean_note(note, required=(answer == "deviation"))
    if len(uploads) > MAX_PHOTOS:
        raise RoundError("too_many_photos", n=MAX_PHOTOS)
    same_uuid = _sent_before(safety_round, user, answer_uuid, item_key, answer, note)
    if same_uuid is not None:
        return same_uuid, "same"
    _refuse_if_closed(safety_round)
    processed, dropped = _process(uploads)
    for item in processed:
        photos.save(store, item)
    try:
        with database.atomic():
            _lock_round(safety_round)
            _refuse_if_closed(safety_round)  # again, under the lock: finished or signed meanwhile
            # Again under the lock: the same UUID sent at once with other content was saved by the first request,
            # and _upsert (by item) would have written this one over it (found by the breaker).
            same_uuid = _sent_before(safety_round, user, answer_uuid, item_key, answer, note)
            if same_uuid is not None:
                return same_uuid, "same"
            row, status = _upsert(safety_round, user, answer_uuid, item_key, answer, note, when, language)
            for item in processed:
                RoundPhoto.insert(answer=row, digest=item.digest, width=item.width, height=item.height,
                                  added_by=user).on_conflict_ignore().execute()
                if row.finding_id:
                    Photo.insert(report=row.finding_id, digest=item.digest, width=item.width, height=item.height,
                                 added_by=user).on_conflict_ignore().execute()
            audit.record(user, "round.answer", "round_answer", row.id,
                         after={"round": safety_round.id, "item": item_key, "answer": answer, "note": note,
                                "photos": [p.digest for p in processed], "kept": status})
    except IntegrityError:
        # Another phone answered this item at the same moment: the first is saved, this one decides again
        # (once more at most: a second clash is a real conflict, and the phone retries the item later).
        if attempt >= 1:
            raise
        return answer_item(store, safety_round, user, answer_uuid, version_id, item_key, answer, note, uploads,
                           when, language, attempt + 1)
    row.dropped = dropped
    return row, status


def _sent_before(safety_round, user, answer_uuid, item_key, answer, note):
    """The answer saved under `answer_uuid` when this is it sent again (its .dropped empty), None when the UUID is
    new; RoundError "answer_conflict" (409) for other content or another person's answer under the UUID."""
    same_uuid = RoundAnswer.get_or_none(RoundAnswer.uuid == answer_uuid)
    if same_uuid is None:
        return None
    if (same_uuid.round_id, same_uuid.item_key, same_uuid.answer, same_uuid.note, same_uuid.answered_by_id) != (
            safety_round.id, item_key, answer, note, user.id):
        raise RoundError("answer_conflict")  # other content, or another person's answer under this UUID
    same_uuid.dropped = []
    return same_uuid


def _upsert(safety_round, user, answer_uuid, item_key, answer, note, when, language):
    row = RoundAnswer.get_or_none((RoundAnswer.round == safety_round) & (RoundAnswer.item_key == item_key))
    if row is None:
        row = RoundAnswer.create(uuid=answer_uuid, round=safety_round, item_key=item_key, answer=answer, note=note,
                                 answered_by=user, answered_at=when.recorded, phone_at=when.claimed,
                                 received_at=when.received)
        status = "created"
    elif when.recorded < row.answered_at:
        return row, "older"
    else:
        before = row.note
        RoundAnswer.update(uuid=answer_uuid, answer=answer, note=note, answered_by=user, answered_at=when.recorded,
                           phone_at=when.claimed, received_at=when.received).where(RoundAnswer.id == row.id).execute()
        row = RoundAnswer.get_by_id(row.id)
        row.note_changed = note != before
        status = "updated"
    _follow_up(safety_round, row, user, language)
    return row, status


def _follow_up(safety_round, row, user, language):
    """The answer's finding: made for a deviation, closed when the answer is no longer one, reopened if again."""
    finding = Report.get_or_none(Report.id == row.finding_id) if row.finding_id else None
    if row.answer == "deviation":
        if finding is None:
            section, description = _finding_text(safety_round, row.item_key, row.note, language)
            category = section.get("category") if section.get("category") in REPORT_CATEGORIES else "other"
            # The finding gets its own server-made UUID: the answer's UUID is the phone's and may equal a
            # report's (sent by mistake or on purpose), which would clash with report.uuid (a 500, issue 21).
            finding = Report.create(uuid=uuidlib.uuid4(), payload_hash=hashlib.sha256(description.encode()).hexdigest(),
                                    site=safety_round.site_id, reporter=user, kind="finding", category=category,
                                    severity="medium", description=description[:1000],
                                    happened_at=row.answered_at, phone_at=row.phone_at, received_at=row.received_at)
            ReportEvent.create(report=finding, actor=user, kind="created", at=finding.received_at,
                               data={"round": str(safety_round.uuid), "item": row.item_key})
            RoundAnswer.update(finding=finding).where(RoundAnswer.id == row.id).execute()
            row.finding = finding
            audit.record(user, "report.create", "report", finding.id,
                         after={"kind": "finding", "round": safety_round.id, "item": row.item_key})
        elif finding.status == "closed" and _closed_by_round(finding):
            Report.update(status="in_progress" if finding.assignee_id else "open", closed_at=None).where(
                Report.id == finding.id).execute()
            ReportEvent.create(report=finding, actor=user, kind="reopened", text=row.note)
            audit.record(user, "report.reopen", "report", finding.id, after={"why": "round answer changed"})
        elif row.note and getattr(row, "note_changed", False):
            ReportEvent.create(report=finding, actor=user, kind="comment", text=row.note)
    elif finding is not None and finding.status != "closed":
        Report.update(status="closed", closed_at=utcnow()).where(Report.id == finding.id).execute()
        # No words stored: the report page says why in its reader's language (data.round_answer), not in the
        # language of the person who changed the answer.
        ReportEvent.create(report=finding, actor=user, kind="closed", data={"round_answer": row.id})
        audit.record(user, "report.close", "report", finding.id, after={"why": "round answer changed"})


def _closed_by_round(finding):
    """Whether the finding's latest closing was the round's (its answer changed), not a person's follow-up."""
    last = (ReportEvent.select().where((ReportEvent.report == finding) & (ReportEvent.kind == "closed"))
            .order_by(ReportEvent.id.desc()).first())
    return last is not None and "round_answer" in (last.data or {})


def progress(safety_round, answers):
    """(answered, total) items of the round's version."""
    keys = item_keys(safety_round.version)
    return sum(1 for k in keys if k in answers), len(keys)


def site_people(site):
    """[(User, role)] of the site, by name."""
    rows = (User.select(User, Membership.role).join(Membership)
            .where((Membership.site == site) & (User.active == True))  # noqa: E712
            .order_by(User.name).objects())
    return list(rows)


def finish(safety_round, user, participant_ids, typed_names, summary):
    """Close the round for answers and record who took part and the summary.

    participant_ids: [str] of user ids (people of the site); typed_names: text, one name a line.
    RoundError: finished / signed (409), unanswered (422, n = items left), bad_participant (422),
    too_long (422). Returns False when the round was already finished with the same content (a resend).
    """
    answers = answers_of(safety_round)
    done, total = progress(safety_round, answers)
    summary = free_text(summary)
    if len(summary) > MAX_SUMMARY:
        raise RoundError("too_long", field="summary", n=MAX_SUMMARY)
    members = {p.id: p for p in site_people(safety_round.site)}
    people = []
    for raw in participant_ids:
        person_id = whole_number(raw)
        if person_id is None or person_id not in members:
            raise RoundError("bad_participant", field="participants")
        if {"user": person_id} not in people:
            people.append({"user": person_id})
    names = [n.strip() for n in (typed_names or "").splitlines() if n.strip()]
    if len(names) > MAX_NAMES:
        raise RoundError("too_many_names", field="names", n=MAX_NAMES)
    if any(len(n) > MAX_NAME for n in names):
        raise RoundError("too_long", field="names", n=MAX_NAME)
    people.extend({"name": n} for n in names)
    if safety_round.finished_at is not None:
        if safety_round.participants == people and safety_round.summary == summary:
            return False
        _refuse_if_closed(safety_round)
    _refuse_if_closed(safety_round)
    if done < total:
        raise RoundError("unanswered", n=total - done)
    with database.atomic():
        _lock_round(safety_round)
        _refuse_if_closed(safety_round)  # finished by another phone meanwhile
        left = total - progress(safety_round, answers_of(safety_round))[0]  # read again under the lock
        if left:
            raise RoundError("unanswered", n=left)
        now = utcnow()
        SafetyRound.update(finished_at=now, finished_by=user, participants=people, summary=summary).where(
            (SafetyRound.id == safety_round.id) & SafetyRound.finished_at.is_null()).execute()
        audit.record(user, "round.finish", "safety_round", safety_round.id,
                     after={"participants": people, "summary": summary})
    safety_round.finished_at, safety_round.participants, safety_round.summary = now, people, summary
    return True


def discard(safety_round, user, confirmed):
    """Discard an unfinished round (a "Start the walkaround" tapped and then abandoned): the round, its answers
    and their photo rows go; an audit event "round.discard" keeps what was there. Returns the number of answers
    discarded.

    confirmed: bool, the person confirmed discarding the answers (needed only when there are answers).
    RoundError: finished (409; a finished round is kept, corrections are notes), discard_findings (409; its
    deviations are already follow-up items), discard_confirm (409, n = answers; nothing is discarded unasked).
    """
    if safety_round.finished_at is not None:
        raise RoundError("finished")
    with database.atomic():
        _lock_round(safety_round)  # the answers as they are now: none arrives while they are read and deleted
        if safety_round.finished_at is not None:
            raise RoundError("finished")
        answers = list(RoundAnswer.select().where(RoundAnswer.round == safety_round))
        if any(a.finding_id for a in answers):
            raise RoundError("discard_findings")
        if answers and not confirmed:
            raise RoundError("discard_confirm", n=len(answers))
        ids = [a.id for a in answers]
        if ids:
            RoundPhoto.delete().where(RoundPhoto.answer.in_(ids)).execute()
            RoundAnswer.delete().where(RoundAnswer.id.in_(ids)).execute()
        SafetyRound.delete().where(SafetyRound.id == safety_round.id).execute()
        audit.record(user, "round.discard", "safety_round", safety_round.id,
                     before={"uuid": str(safety_round.uuid), "site": safety_round.site_id,
                             "started_by": safety_round.started_by_id,
                             "answers": {a.item_key: a.answer for a in answers}})
    return len(answers)


def registered_signers(safety_round):
    """{user id} the verneombud register (VerneombudTerm, AML § 6-1) names as verneombud or deputy for the
    round's site on the round's (local) day. One query."""
    site = safety_round.site
    day = clock.local(safety_round.started_at, site).date()
    return {u for (u,) in VerneombudTerm.select(VerneombudTerm.user).where(
        (VerneombudTerm.organization == site.organization_id)
        & (VerneombudTerm.site.is_null() | (VerneombudTerm.site == site.id))
        & (VerneombudTerm.elected_from <= day) & (VerneombudTerm.elected_to >= day)).tuples()}


def signers_for(safety_round, registered=None):
    """{side: [User]}: who may sign for each side: people of the site with the side's roles, and for the
    verneombud's side also whoever the verneombud register (VerneombudTerm, AML § 6-1) names as verneombud or
    deputy for the site on the round's day, whatever their site role (the register is the law's record of who
    the verneombud is; fieldapp/duties/rules.py counts only their signatures). The verneombud's side lists the
    registered first (then by name). `registered`: registered_signers(safety_round), when already read."""
    site = safety_round.site
    if registered is None:
        registered = registered_signers(safety_round)
    out = {side: [] for side in ROUND_SIDES}
    for person in site_people(site):
        for side, roles in SIDE_ROLES.items():
            if person.role in roles or (side == "verneombud" and person.id in registered):
                if person not in out[side]:
                    out[side].append(person)
    out["verneombud"].sort(key=lambda person: person.id not in registered)  # stable: by name within each
    return out


def sign(safety_round, device_user, side, signer_id, pin, ip, sig_uuid, when):
    """(RoundSignature, created): `side` signed by the signer (on their phone, or with their PIN on this one).

    RoundError: not_finished (409), bad_side (422); signatures.SignatureError: bad_signer, sign_for_other,
    wrong_pin, throttled, signed_twice. Both sides signed: the round is signed and frozen (signed_at).
    """
    existing = RoundSignature.get_or_none(RoundSignature.uuid == sig_uuid)
    if existing is not None and (existing.round_id, existing.side, existing.device_user_id) == (
            safety_round.id, side, device_user.id):
        return existing, False  # the same signature sent again from the phone that made it
    if safety_round.finished_at is None:
        raise RoundError("not_finished")
    if side not in ROUND_SIDES:
        raise RoundError("bad_side", field="side")
    signer = signatures.parse_signer(signer_id, [p.id for p in signers_for(safety_round)[side]])
    with_pin = signatures.confirm_signer(device_user, signer, pin, ip)
    signatures.refuse_twice(RoundSignature.select().where(
        (RoundSignature.round == safety_round)
        & ((RoundSignature.side == side) | (RoundSignature.signer == signer.id))).exists())
    try:
        with database.atomic():
            row = RoundSignature.create(uuid=sig_uuid, round=safety_round, side=side, signer=signer,
                                        device_user=device_user, with_pin=with_pin, signed_at=when.recorded,
                                        phone_at=when.claimed, received_at=when.received)
            if RoundSignature.select().where(RoundSignature.round == safety_round).count() == len(ROUND_SIDES):
                SafetyRound.update(signed_at=utcnow()).where(SafetyRound.id == safety_round.id).execute()
            audit.record(device_user, "round.sign", "round_signature", row.id,
                         after={"round": safety_round.id, "side": side, "signer": signer.id, "with_pin": with_pin})
    except IntegrityError:
        signatures.refuse_twice(True)
    return row, True


def signatures_of(safety_round):
    Signer = User.alias()
    return list(RoundSignature.select(RoundSignature, Signer).join(Signer, on=(RoundSignature.signer == Signer.id))
                .where(RoundSignature.round == safety_round).order_by(RoundSignature.id))


def add_note(safety_round, user, note):
    """A correction or remark kept beside the round (the signed answers never change)."""
    note = _clean_note(note, required=True)
    with database.atomic():
        row = RoundNote.create(round=safety_round, author=user, text=note)
        audit.record(user, "round.note", "round_note", row.id, after={"round": safety_round.id, "text": note})
    return row


def notes_of(safety_round):
    return list(RoundNote.select(RoundNote, User).join(User).where(RoundNote.round == safety_round)
                .order_by(RoundNote.id))


def participants_shown(safety_round):
    """[name] of the round's participants: people of the site by their name, typed names as typed."""
    ids = [p["user"] for p in safety_round.participants or [] if "user" in p]
    names = {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(ids))} if ids else {}
    return [names.get(p["user"], "?") if "user" in p else p.get("name", "") for p in safety_round.participants or []]


# --- findings -------------------------------------------------------------------------------------------

def findings(safety_round):
    """[(RoundAnswer, Report)] of the round's deviations, in the checklist's order."""
    order = {k: n for n, k in enumerate(item_keys(safety_round.version))}
    Assignee = User.alias()
    rows = (RoundAnswer.select(RoundAnswer, Report, Assignee)
            .join(Report, on=(RoundAnswer.finding == Report.id))
            .join(Assignee, JOIN.LEFT_OUTER, on=(Report.assignee == Assignee.id))
            .where((RoundAnswer.round == safety_round) & (RoundAnswer.answer == "deviation")))
    out = [(row, row.finding) for row in rows]
    return sorted(out, key=lambda pair: order.get(pair[0].item_key, 0))


def open_findings(site, before=None, limit=30):
    """[Report] of the site's walkaround findings not yet closed (from rounds other than `before`), oldest
    first, at most `limit` (the reports list has them all: kind "finding")."""
    query = (Report.select(Report).join(RoundAnswer, on=(RoundAnswer.finding == Report.id))
             .join(SafetyRound, on=(RoundAnswer.round == SafetyRound.id))
             .where((SafetyRound.site == site) & (Report.status != "closed") & (RoundAnswer.answer == "deviation")))
    if before is not None:
        query = query.where(SafetyRound.id != before.id)
    return list(query.order_by(Report.happened_at).limit(limit))


def round_photo(site, round_uuid, digest):
    """The RoundPhoto with this digest in a round of the site, or None."""
    return (RoundPhoto.select(RoundPhoto).join(RoundAnswer).join(SafetyRound)
            .where((SafetyRound.site == site) & (SafetyRound.uuid == round_uuid) & (RoundPhoto.digest == digest))
            .first())


# --- the site's list and when the next round is due -------------------------------------------------------

def finished_uuids(site, user, limit=20):
    """[str]: UUIDs of the newest finished rounds this person started on the site (at most `limit`), so the
    start page's script forgets a round the phone still thinks it is walking (finished from another phone)."""
    rows = (SafetyRound.select(SafetyRound.uuid)
            .where((SafetyRound.site == site) & (SafetyRound.started_by == user) & SafetyRound.finished_at.is_null(False))
            .order_by(SafetyRound.started_at.desc()).limit(limit))
    return [str(r.uuid) for r in rows]


def list_rounds(site, limit=50):
    """The site's newest rounds with counts: [SafetyRound] with .n_answers, .n_findings, .n_open (one query)."""
    open_findings_q = (RoundAnswer.select(fn.COUNT(RoundAnswer.id)).join(Report, on=(RoundAnswer.finding == Report.id))
                       .where((RoundAnswer.round == SafetyRound.id) & (Report.status != "closed")))
    findings_q = (RoundAnswer.select(fn.COUNT(RoundAnswer.id))
                  .where((RoundAnswer.round == SafetyRound.id) & (RoundAnswer.answer == "deviation")))
    return list(SafetyRound.select(SafetyRound, User, findings_q.alias("n_findings"),
                                   open_findings_q.alias("n_open"))
                .join(User, on=(SafetyRound.started_by == User.id))
                .where(SafetyRound.site == site)
                .order_by(SafetyRound.started_at.desc()).limit(limit))


def interval_days(site):
    schedule = RoundSchedule.get_or_none(RoundSchedule.site == site)
    return schedule.interval_days if schedule else DEFAULT_INTERVAL


def set_interval(actor, site, raw):
    """RoundError("bad_interval", n=MAX_INTERVAL) unless 1..MAX_INTERVAL days."""
    days = whole_number(raw)
    if days is None or not 1 <= days <= MAX_INTERVAL:
        raise RoundError("bad_interval", field="interval_days", n=MAX_INTERVAL)
    with database.atomic():
        (RoundSchedule.insert(site=site, interval_days=days)
         .on_conflict(conflict_target=[RoundSchedule.site], update={RoundSchedule.interval_days: days}).execute())
        audit.record(actor, "round.interval", "site", site.id, after={"interval_days": days})
    return days


def due_dates(site_ids):
    """{site id: (next due date, interval days)} in each site's time zone (two queries)."""
    sites, last, intervals = _due_inputs(site_ids)
    return {site_id: _due_for(site, last, intervals) for site_id, site in sites.items()}


def _due_inputs(site_ids):
    """({site id: Site}, {site id: last round's start}, {site id: interval days}): three queries."""
    sites = {s.id: s for s in Site.select().where(Site.id.in_(list(site_ids)))} if site_ids else {}
    last = dict(SafetyRound.select(SafetyRound.site, fn.MAX(SafetyRound.started_at))
                .where(SafetyRound.site.in_(list(sites))).group_by(SafetyRound.site).tuples()) if sites else {}
    intervals = dict(RoundSchedule.select(RoundSchedule.site, RoundSchedule.interval_days)
                     .where(RoundSchedule.site.in_(list(sites))).tuples()) if sites else {}
    return sites, last, intervals


def _due_for(site, last, intervals):
    """(next due date, interval days) of one site from _due_inputs' answer, on the site's clock."""
    days = intervals.get(site.id, DEFAULT_INTERVAL)
    started = last.get(site.id)
    if started is None:
        return clock.local(site.created_at, site).date(), days
    return clock.local(started, site).date() + timedelta(days=days), days


def home_card(memberships):
    """[{"site": Site, "due": date, "overdue": bool, "days": int, "today": bool}] for the sites where the person
    runs rounds. memberships: the person's on active sites, each with its site (sites.service.memberships_of,
    which the home page has read already)."""
    runs = set(roles_with("rounds.run"))
    memberships = [m for m in memberships if m.role in runs]
    dates = due_dates([m.site_id for m in memberships])
    out = []
    for m in memberships:
        due, days = dates[m.site_id]
        today = clock.today(m.site)
        out.append({"site": m.site, "due": due, "overdue": due < today, "days": days, "today": due == today})
    return out




# --- reminders ---------------------------------------------------------------------------------------------

MAX_SITES_PER_RUN = 5000  # a run reminds at most this many sites; the next run goes on


def remind_due(now=None):
    """A reminder (the alerts inbox and push, template "round_due") to the site's verneombud, foremen and
    managers when its walkaround is due today or overdue, once per due date. Returns the number of sites reminded.

    The alert's UUID is derived from the site and the due date, so a run repeated (or two consumers) makes
    one reminder. Call from the periodic task; the alerts' own sender delivers the push messages.
    """
    sites = list(Site.select().where(Site.active == True).order_by(Site.id).limit(MAX_SITES_PER_RUN))  # noqa: E712
    _sites, last, intervals = _due_inputs([s.id for s in sites])
    reminded = dict(RoundSchedule.select(RoundSchedule.site, RoundSchedule.reminded_for).tuples())
    count = 0
    for site in sites:
        # One site's unexpected error is logged and rolled back (its reminder and its reminded_for mark
        # together), and the other sites are still reminded (fieldapp/isolate.py).
        ok, result = isolate.attempt("round reminders", site.id, _remind_site, site, last, intervals, reminded)
        if not ok or result is None:
            continue
        alert, created = result
        if created:
            alert_tasks.deliver_soon(alert.id)  # after commit; if this is lost, the minutely sweep sends it
        count += 1
    return count


def _remind_site(site, last, intervals, reminded):
    """One site's round reminder, inside the caller's transaction: (alert, created), or None when not due."""
    due, days = _due_for(site, last, intervals)
    if due > clock.today(site) or reminded.get(site.id) == due:
        return None
    people = [(m.user_id, m.role) for m in Membership.select().where(
        (Membership.site == site) & Membership.role.in_(roles_with("rounds.run")))]
    fields = dict(template="round_due", level="info", title="", body="", area=site.name, audience="all",
                  ack_required=False, ack_minutes=60)
    key = uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"fieldapp:round-due:{site.id}:{due.isoformat()}")
    alert, created = alerts.create(None, site, key, fields, recipients=people, send=False)
    (RoundSchedule.insert(site=site, interval_days=days, reminded_for=due)
     .on_conflict(conflict_target=[RoundSchedule.site], update={RoundSchedule.reminded_for: due}).execute())
    return alert, created


def finding_origin(report):
    """The walkaround a finding came from: an object with round_uuid, started_at and item_key, or None."""
    return (RoundAnswer.select(SafetyRound.uuid.alias("round_uuid"), SafetyRound.started_at, RoundAnswer.item_key)
            .join(SafetyRound).where(RoundAnswer.finding == report.id).objects().first())
