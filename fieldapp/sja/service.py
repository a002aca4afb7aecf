"""SJA records: saved once per UUID, changed until the go, signed per revision, decided, finished.

Rules (issue 18; the risk matrix follows internkontrollforskriften § 5 nr. 6: map dangers, assess the risk,
plan measures):
- a hazard's score is probability x consequence, each 1-5: 1-6 green, 7-13 amber, 14-25 red; an amber or red
  hazard must have a measure (SjaError "measure_required", 422), checked here whatever the form did;
- the content can be changed until the responsible person decides "go" ("decided", 409); every change
  raises the revision, and a participant's signature counts for the revision it was made on;
- a participant signs for themselves only: on their own signed-in phone, or with their own PIN on another
  (fieldapp/signatures.py, shared with walkarounds); once per revision (signing again is the signature made); a
  signature of an older revision than the SJA now has is refused ("changed_since_read", 409): they must read it again;
- go / no-go and lessons learned are for the person named responsible only ("not_responsible", 403); go
  needs every participant's signature on the current revision; a no-go can be revised, every decision kept.
Every change writes an audit event in its transaction.
"""
import hashlib
import json

from peewee import JOIN, IntegrityError, fn

from flask_babel import gettext as _

from .. import audit, clock
from ..alerts import service as alerts
from ..authz import can
from ..checkin import equipment as equipment_catalogue
from ..db import database, locked
from ..i18n import localized
from ..inputs import InputError, free_text, iso_local_time, plausible_date, whole_number
from ..models import (SJA_DECISIONS, Membership, Sja, SjaDecision, SjaHazard, SjaParticipant, SjaSignature,
                      SjaStep, User, utcnow)

MAX_TITLE = 200
MAX_TEXT = 2000
MAX_PLACE = 200
MAX_LINKS = 1000
MAX_STEPS = 20
MAX_HAZARDS = 10  # per step
MAX_PARTICIPANTS = 60
MAX_YEARS_BACK = 1  # an SJA is written before the job; one started within the last year may be recorded late
MAX_YEARS_AHEAD = 2

SCALE = range(1, 6)
GREEN_MAX, AMBER_MAX = 6, 13  # 1-6 green, 7-13 amber, 14-25 red
DECISIONS = SJA_DECISIONS


class SjaError(InputError):
    """Bad input or a rule that says no: `reason` picks the message (fieldapp.inputs); nothing was saved."""

    scope = "sja"


def level(score):
    """'green' (1-6), 'amber' (7-13) or 'red' (14-25) for a score (probability x consequence); None for None."""
    if score is None:
        return None
    if score <= GREEN_MAX:
        return "green"
    return "amber" if score <= AMBER_MAX else "red"


def score(probability, severity):
    return probability * severity if probability and severity else None


# --- the form: flat fields in, content out -------------------------------------------------------------------

def _text(form, name, limit, reason="too_long"):
    value = free_text(form.get(name))
    if len(value) > limit:
        raise SjaError(reason, field=name, n=limit)
    return value


def _grade(form, name, required):
    raw = (form.get(name) or "").strip()
    if not raw:
        if required:
            raise SjaError("bad_grade", field=name)
        return None
    grade = whole_number(raw)
    if grade not in SCALE:
        raise SjaError("bad_grade", field=name)
    return grade


def _hazard(form, prefix):
    """One hazard's fields, or None when the row is empty. SjaError names the first problem."""
    names = ("cause", "consequence", "probability", "severity", "measure", "measure_by", "probability_after",
             "severity_after")
    if not any((form.get(f"{prefix}-{n}") or "").strip() for n in names):
        return None
    cause = _text(form, f"{prefix}-cause", MAX_TEXT)
    if not cause:
        raise SjaError("cause_required", field=f"{prefix}-cause")
    hazard = dict(cause=cause, consequence=_text(form, f"{prefix}-consequence", MAX_TEXT),
                  probability=_grade(form, f"{prefix}-probability", True),
                  severity=_grade(form, f"{prefix}-severity", True),
                  measure=_text(form, f"{prefix}-measure", MAX_TEXT),
                  measure_by=_text(form, f"{prefix}-measure_by", MAX_PLACE),
                  probability_after=_grade(form, f"{prefix}-probability_after", False),
                  severity_after=_grade(form, f"{prefix}-severity_after", False))
    if level(score(hazard["probability"], hazard["severity"])) != "green" and not hazard["measure"]:
        raise SjaError("measure_required", field=f"{prefix}-measure")
    if (hazard["probability_after"] is None) != (hazard["severity_after"] is None):
        raise SjaError("bad_grade", field=f"{prefix}-probability_after")
    return hazard


def clean(form, site):
    """The SJA's content from the form's flat fields: a dict with title, operation, place, starts_at (naive
    UTC or None), responsible (user id), participants (sorted user ids, the responsible person included),
    links, equipment (keys), steps ([{title, hazards: [...]}]).

    Steps are step-<i>-title, hazards step-<i>-hazard-<j>-<field> (i < MAX_STEPS, j < MAX_HAZARDS); empty rows
    are skipped. Raises SjaError naming the field (title_required, measure_required, bad_grade, ...).
    """
    title = _text(form, "title", MAX_TITLE)
    if not title:
        raise SjaError("title_required", field="title")
    content = dict(title=title, operation=_text(form, "operation", MAX_TEXT), place=_text(form, "place", MAX_PLACE),
                   links=_text(form, "links", MAX_LINKS))
    raw_start = (form.get("starts_at") or "").strip()
    try:
        start = iso_local_time(raw_start) if raw_start else None
    except ValueError:
        raise SjaError("bad_starts_at", field="starts_at") from None
    if start is not None and start.tzinfo is not None:  # the form sends the site's wall-clock time, no zone
        raise SjaError("bad_starts_at", field="starts_at")
    plausible_date(start, clock.today(site), "starts_at", MAX_YEARS_BACK, MAX_YEARS_AHEAD, SjaError)
    content["starts_at"] = clock.to_utc(start, site) if start is not None else None
    members = {m.user_id for m in Membership.select(Membership.user).where(Membership.site == site)}
    responsible = whole_number(form.get("responsible"))
    if responsible not in members:
        raise SjaError("bad_responsible", field="responsible")
    content["responsible"] = responsible
    participants = set()
    for raw in form.getlist("participants")[:MAX_PARTICIPANTS + 1]:
        person = whole_number(raw)
        if person not in members:
            raise SjaError("bad_participant", field="participants")
        participants.add(person)
    participants.add(content["responsible"])
    if len(participants) > MAX_PARTICIPANTS:
        raise SjaError("too_many_participants", field="participants", n=MAX_PARTICIPANTS)
    content["participants"] = sorted(participants)
    known = {item.key for item in equipment_catalogue.catalogue(site.organization_id)}
    chosen = form.getlist("equipment")
    if not set(chosen) <= known:
        raise SjaError("bad_equipment", field="equipment")
    content["equipment"] = sorted(set(chosen))
    steps = []
    for i in range(MAX_STEPS):
        step_title = _text(form, f"step-{i}-title", MAX_TITLE)
        hazards = [h for h in (_hazard(form, f"step-{i}-hazard-{j}") for j in range(MAX_HAZARDS)) if h]
        if hazards and not step_title:
            raise SjaError("step_title_required", field=f"step-{i}-title")
        if step_title:
            steps.append(dict(title=step_title, hazards=hazards))
    if not steps:
        raise SjaError("steps_required", field="step-0-title")
    content["steps"] = steps
    return content


def flatten(content):
    """The form's flat fields ({name: str or list}) for a content dict: to show a copy or the SJA to change."""
    fields = {k: content.get(k) or "" for k in ("title", "operation", "place", "links")}
    fields["equipment"] = list(content.get("equipment") or [])
    fields["participants"] = [str(p) for p in content.get("participants") or []]
    if content.get("responsible"):
        fields["responsible"] = str(content["responsible"])
    for i, step in enumerate(content.get("steps") or []):
        fields[f"step-{i}-title"] = step["title"]
        for j, hazard in enumerate(step["hazards"]):
            for name, value in hazard.items():
                fields[f"step-{i}-hazard-{j}-{name}"] = "" if value is None else str(value)
    return fields


def content_of(sja):
    """The content dict (as clean() gives it) of a saved SJA or template."""
    steps = [dict(title=step.title, hazards=[
        dict(cause=h.cause, consequence=h.consequence, probability=h.probability, severity=h.severity,
             measure=h.measure, measure_by=h.measure_by, probability_after=h.probability_after,
             severity_after=h.severity_after) for h in step.hazard_rows]) for step in steps_of(sja)]
    return dict(title=sja.title, operation=sja.operation, place=sja.place, links=sja.links,
                starts_at=sja.starts_at, responsible=sja.responsible_id, equipment=list(sja.equipment or []),
                participants=sorted(p.user_id for p in SjaParticipant.select().where(SjaParticipant.sja == sja)),
                steps=steps)


def payload_hash(site, user, content):
    """What makes two sends of one UUID "the same SJA": the content and who made it where."""
    body = json.dumps([site.id, user.id, content], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


# --- saving ---------------------------------------------------------------------------------------------

def _write_content(sja, content):
    for i, step in enumerate(content["steps"]):
        row = SjaStep.create(sja=sja, position=i, title=step["title"])
        for j, hazard in enumerate(step["hazards"]):
            SjaHazard.create(step=row, position=j, **hazard)


def _audit_view(content):
    starts_at = content.get("starts_at")
    return {**{k: v for k, v in content.items() if k != "steps"},
            "starts_at": starts_at.isoformat() if starts_at else None,
            "steps": len(content["steps"]), "hazards": sum(len(s["hazards"]) for s in content["steps"])}


def create(site, user, sja_uuid, when, content, copied_from=None):
    """(sja, created). A resend of the same UUID and content is (the same sja, False); other content under
    that UUID raises SjaError("uuid_conflict", 409). when: a phone_time.PhoneTime."""
    digest = payload_hash(site, user, content)
    existing = Sja.get_or_none(Sja.uuid == sja_uuid)
    if existing is not None:
        if existing.payload_hash != digest or existing.site_id != site.id:
            raise SjaError("uuid_conflict")
        return existing, False
    try:
        with database.atomic():
            sja = Sja.create(uuid=sja_uuid, payload_hash=digest, organization=site.organization_id, site=site,
                             title=content["title"], operation=content["operation"], place=content["place"],
                             starts_at=content["starts_at"], responsible=content["responsible"],
                             links=content["links"], equipment=content["equipment"], created_by=user,
                             created_at=when.recorded, received_at=when.received, phone_at=when.claimed,
                             copied_from=copied_from)
            _write_content(sja, content)
            for person in content["participants"]:
                SjaParticipant.create(sja=sja, user=person)
            audit.record(user, "sja.create", "sja", sja.id,
                         after={**_audit_view(content), "site": site.id, "copied_from": copied_from})
    except IntegrityError:
        existing = Sja.get_or_none(Sja.uuid == sja_uuid)  # the same UUID won a race: answer as for a resend
        if existing is None:
            raise
        if existing.payload_hash != digest:
            raise SjaError("uuid_conflict") from None
        return existing, False
    ask_to_sign(user, sja)
    return sja, True


def ask_to_sign(actor, sja):
    """Tell the participants who have not signed the SJA's current revision (the actor aside), by inbox and
    push, each in their own language, that it awaits their signature. Once per revision: the alert's UUID is
    made from the SJA, its revision and the language (alerts.service.inform). Returns the alerts made."""
    signed = SjaSignature.select(SjaSignature.user).where((SjaSignature.sja == sja.id)
                                                          & (SjaSignature.revision == sja.revision))
    recipients = list(User.select(User.id, Membership.role, User.language)
                      .join(SjaParticipant, on=(SjaParticipant.user == User.id))
                      .join(Membership, on=((Membership.user == User.id) & (Membership.site == sja.site_id)))
                      .where((SjaParticipant.sja == sja.id) & User.id.not_in(signed)).tuples())
    if not recipients or sja.site_id is None:
        return 0

    def words(_language):
        return (_("SJA to sign: %(title)s", title=sja.title),
                _("Read the safe job analysis on the site's SJA page, then sign that you took part and understood "
                  "it."))
    return alerts.inform(actor, sja.site, f"fieldapp:sja-sign:{sja.id}:{sja.revision}", recipients, words)


def may_change(membership, sja):
    """The maker, the responsible person and the site's staff may change an SJA (until the go)."""
    return (membership.user_id in (sja.created_by_id, sja.responsible_id)) or can("sja.read_all", membership)


def update(membership, sja, content, revision):
    """Change the content: a new revision (everyone signs again). revision: the one the form was made from.

    SjaError: "not_allowed" (403), "decided" (409, after the go or the finish), "changed_since_read" (409,
    someone changed it meanwhile). A change after a no-go reopens the decision (the no-go stays in history).
    """
    user = membership.user
    if not may_change(membership, sja):
        raise SjaError("not_allowed")
    with database.atomic():
        fresh = locked(Sja, sja.id)
        if fresh.decision == "go" or fresh.finished_at is not None:
            raise SjaError("decided")
        if revision != fresh.revision:
            raise SjaError("changed_since_read")
        before = _audit_view(content_of(fresh))
        SjaStep.delete().where(SjaStep.sja == fresh).execute()  # hazards go with their steps (CASCADE)
        _write_content(fresh, content)
        old = {p.user_id for p in SjaParticipant.select().where(SjaParticipant.sja == fresh)}
        new = set(content["participants"])
        signed = {s.user_id for s in SjaSignature.select(SjaSignature.user).where(SjaSignature.sja == fresh)}
        # Whoever signed stays a participant: a signature is never left without its person on the list.
        SjaParticipant.delete().where((SjaParticipant.sja == fresh)
                                      & SjaParticipant.user.in_(list(old - new - signed))).execute()
        for person in sorted(new - old):
            SjaParticipant.create(sja=fresh, user=person)
        (Sja.update(title=content["title"], operation=content["operation"], place=content["place"],
                    starts_at=content["starts_at"], responsible=content["responsible"], links=content["links"],
                    equipment=content["equipment"], revision=Sja.revision + 1, decision=None, decided_at=None)
         .where(Sja.id == fresh.id).execute())
        audit.record(user, "sja.change", "sja", fresh.id, before=before,
                     after={**_audit_view(content), "revision": fresh.revision + 1})
    changed = Sja.get_by_id(sja.id)
    ask_to_sign(user, changed)
    return changed


# --- reading ---------------------------------------------------------------------------------------------

def visible(membership, sja_id):
    """The site's SJA if this member may see it (staff: all; others: those they take part in, made or lead)."""
    sja = Sja.get_or_none((Sja.id == sja_id) & (Sja.site == membership.site_id))
    if sja is None or can("sja.read_all", membership):
        return sja
    if membership.user_id in (sja.created_by_id, sja.responsible_id):
        return sja
    taking_part = (SjaParticipant.select().where((SjaParticipant.sja == sja)
                                                 & (SjaParticipant.user == membership.user_id)).exists())
    return sja if taking_part else None


def by_uuid(membership, sja_uuid):
    sja = Sja.get_or_none((Sja.uuid == sja_uuid) & (Sja.site == membership.site_id))
    return visible(membership, sja.id) if sja else None


def list_for(membership):
    """The site's SJAs this member may see, newest first, with the responsible person's name."""
    query = (Sja.select(Sja, User).join(User, JOIN.LEFT_OUTER, on=(Sja.responsible == User.id))
             .where(Sja.site == membership.site_id).order_by(Sja.created_at.desc(), Sja.id.desc()))
    if not can("sja.read_all", membership):
        mine = SjaParticipant.select(SjaParticipant.sja).where(SjaParticipant.user == membership.user_id)
        query = query.where(Sja.id.in_(mine) | (Sja.created_by == membership.user_id)
                            | (Sja.responsible == membership.user_id))
    return list(query.limit(200))


def steps_of(sja):
    """The steps in order, each with .hazard_rows in order and .score/.level on each hazard (2 queries)."""
    steps = list(SjaStep.select().where(SjaStep.sja == sja).order_by(SjaStep.position))
    by_step = {s.id: [] for s in steps}
    for hazard in (SjaHazard.select().where(SjaHazard.step.in_([s.id for s in steps]))
                   .order_by(SjaHazard.position)):
        hazard.score = score(hazard.probability, hazard.severity)
        hazard.level = level(hazard.score)
        hazard.score_after = score(hazard.probability_after, hazard.severity_after)
        hazard.level_after = level(hazard.score_after)
        by_step[hazard.step_id].append(hazard)
    for step in steps:
        step.hazard_rows = by_step[step.id]
    return steps


def participants_of(sja):
    """[(user, signature on the current revision or None)] by name."""
    people = list(User.select().join(SjaParticipant, on=(SjaParticipant.user == User.id))
                  .where(SjaParticipant.sja == sja).order_by(fn.LOWER(User.name), User.id))
    signed = {s.user_id: s for s in SjaSignature.select()
              .where((SjaSignature.sja == sja) & (SjaSignature.revision == sja.revision))}
    return [(person, signed.get(person.id)) for person in people]


def participant(sja, user_id):
    """The User taking part in the SJA with this id, or None."""
    return (User.select().join(SjaParticipant, on=(SjaParticipant.user == User.id))
            .where((SjaParticipant.sja == sja) & (User.id == user_id)).first())


def signatures_of(sja):
    """Every signature of every revision, oldest first, with the signer and the phone's person."""
    return list(SjaSignature.select(SjaSignature, User).join(User, on=(SjaSignature.user == User.id))
                .where(SjaSignature.sja == sja).order_by(SjaSignature.signed_at, SjaSignature.id))


def decisions_of(sja):
    return list(SjaDecision.select(SjaDecision, User).join(User, on=(SjaDecision.decided_by == User.id))
                .where(SjaDecision.sja == sja).order_by(SjaDecision.at, SjaDecision.id))


def earlier_lessons(site, title, place, exclude_id=None):
    """Finished SJAs on the site with the same title or place (case-insensitive) and lessons learned: the
    newest 5, for the next crew to read."""
    match = fn.LOWER(Sja.title) == (title or "").strip().lower()
    if (place or "").strip():
        match |= fn.LOWER(Sja.place) == place.strip().lower()
    query = (Sja.select().where((Sja.site == site) & match & (Sja.lessons != "") & Sja.finished_at.is_null(False))
             .order_by(Sja.finished_at.desc()).limit(5))
    if exclude_id:
        query = query.where(Sja.id != exclude_id)
    return list(query)


def awaiting_signature(user):
    """The SJAs this person takes part in, not yet decided "go", that lack their signature on the current
    revision: [(sja, site)], for the home card. One query."""
    signed = (SjaSignature.select(SjaSignature.id)
              .where((SjaSignature.sja == Sja.id) & (SjaSignature.user == user.id)
                     & (SjaSignature.revision == Sja.revision)))
    return list(Sja.select(Sja, Membership.site).join(SjaParticipant, on=(SjaParticipant.sja == Sja.id))
                .join(Membership, on=((Membership.site == Sja.site) & (Membership.user == user.id)))
                .where((SjaParticipant.user == user.id) & ~fn.EXISTS(signed)
                       & Sja.finished_at.is_null() & ((Sja.decision.is_null()) | (Sja.decision != "go")))
                .order_by(Sja.starts_at.desc(), Sja.id.desc()).limit(20))


# --- signing, deciding, finishing --------------------------------------------------------------------------

def sign(sja, signer, device_user, sign_uuid, revision, when, method, language):
    """(signature, created). signer: the participant whose signature it is; device_user: who is signed in on
    the phone (the signer themselves for method "session"; for "pin" the PIN was checked by the caller).

    SjaError: "not_participant" (403), "decided" (409, after the go), "changed_since_read" (409: the revision
    read is not the current one), "signature_conflict" (409: the UUID is another signature). A resend of the same
    signature (same UUID, signer and revision) is (it, False), and so is a second signature of the same signer
    and revision from another form or phone: the person has signed, which the outbox must not show as failed.
    """
    existing = SjaSignature.get_or_none(SjaSignature.uuid == sign_uuid)
    if existing is not None:
        if (existing.sja_id, existing.user_id, existing.revision) != (sja.id, signer.id, revision):
            raise SjaError("signature_conflict")
        return existing, False
    if not SjaParticipant.select().where((SjaParticipant.sja == sja) & (SjaParticipant.user == signer.id)).exists():
        raise SjaError("not_participant")
    signed = _signature_of(sja, signer, revision)
    if signed is not None:
        return signed, False  # signed already from another form or phone: done, not a failure to show
    if sja.decision == "go" or sja.finished_at is not None:
        raise SjaError("decided")
    if revision != sja.revision:
        raise SjaError("changed_since_read")
    try:
        with database.atomic():
            signature = SjaSignature.create(uuid=sign_uuid, sja=sja, user=signer, revision=revision, method=method,
                                            language=language, device_user=device_user, signed_at=when.recorded,
                                            received_at=when.received, phone_at=when.claimed)
            audit.record(device_user, "sja.sign", "sja", sja.id,
                         after={"signer": signer.id, "revision": revision, "method": method, "language": language})
        return signature, True
    except IntegrityError:
        again = SjaSignature.get_or_none(SjaSignature.uuid == sign_uuid) or _signature_of(sja, signer, revision)
        if again is not None and (again.sja_id, again.user_id, again.revision) == (sja.id, signer.id, revision):
            return again, False  # the same signature sent twice at once, or from two phones at once
        raise SjaError("signature_conflict") from None


def _signature_of(sja, signer, revision):
    return SjaSignature.get_or_none((SjaSignature.sja == sja.id) & (SjaSignature.user == signer.id)
                                    & (SjaSignature.revision == revision))


def decide(sja, user, decision, note, revision):
    """The responsible person's go or no-go on the revision they read. SjaError: "not_responsible" (403),
    "bad_decision", "no_go_reason" (a no-go says why), "decided" (after a go or the finish),
    "changed_since_read", "unsigned" (go before every participant signed this revision)."""
    if user.id != sja.responsible_id:
        raise SjaError("not_responsible")
    if decision not in SJA_DECISIONS:
        raise SjaError("bad_decision", field="decision")
    note = free_text(note)
    if len(note) > MAX_TEXT:
        raise SjaError("too_long", field="note", n=MAX_TEXT)
    if decision == "no_go" and not note:
        raise SjaError("no_go_reason", field="note")
    with database.atomic():
        fresh = locked(Sja, sja.id)
        if fresh.decision == "go" or fresh.finished_at is not None:
            raise SjaError("decided")
        if revision != fresh.revision:
            raise SjaError("changed_since_read")
        if decision == "go" and any(sig is None for _p, sig in participants_of(fresh)):
            raise SjaError("unsigned")
        now = utcnow()
        SjaDecision.create(sja=fresh, decision=decision, revision=fresh.revision, note=note, decided_by=user, at=now)
        Sja.update(decision=decision, decided_at=now).where(Sja.id == fresh.id).execute()
        audit.record(user, "sja.decide", "sja", fresh.id, before={"decision": fresh.decision},
                     after={"decision": decision, "revision": fresh.revision, "note": note})
    return Sja.get_by_id(sja.id)


def finish(sja, user, lessons):
    """After the job: the responsible person writes what was learned. SjaError: "not_responsible",
    "not_go" (only a job that was given the go is finished), "finished", "lessons_required", "too_long"."""
    if user.id != sja.responsible_id:
        raise SjaError("not_responsible")
    lessons = free_text(lessons)
    if not lessons:
        raise SjaError("lessons_required", field="lessons")
    if len(lessons) > MAX_TEXT:
        raise SjaError("too_long", field="lessons", n=MAX_TEXT)
    with database.atomic():
        fresh = locked(Sja, sja.id)
        if fresh.finished_at is not None:
            raise SjaError("finished")
        if fresh.decision != "go":
            raise SjaError("not_go")
        Sja.update(lessons=lessons, finished_at=utcnow(), finished_by=user).where(Sja.id == fresh.id).execute()
        audit.record(user, "sja.finish", "sja", fresh.id, after={"lessons": lessons})
    return Sja.get_by_id(sja.id)


# --- copies and templates ----------------------------------------------------------------------------------

def copy_source(membership, source_id=None, template_id=None):
    """(content to prefill the new form with, the source Sja) from an earlier SJA on the site that the member
    may see, or from one of the site organization's templates; (None, None) when there is no such one.
    The copy keeps the job and its steps, hazards and measures; not the time, people or signatures."""
    source = None
    if source_id:
        source = visible(membership, source_id)
    elif template_id:
        source = Sja.get_or_none((Sja.id == template_id) & Sja.site.is_null()
                                 & (Sja.organization == membership.site.organization_id))
    if source is None:
        return None, None
    content = content_of(source)
    content.update(starts_at=None, participants=[], responsible=None)
    return content, source


def templates_for(organization_id, language):
    """The organization's templates as [(id, name in `language`)] by name (i18n.localized names)."""
    rows = Sja.select(Sja.id, Sja.title, Sja.template_names).where(
        Sja.site.is_null() & (Sja.organization == organization_id))
    named = [(row.id, localized(row.template_names, language) or row.title) for row in rows]
    return sorted(named, key=lambda pair: pair[1].lower())


def save_template(sja, user, names, template_uuid):
    """A copy of the SJA's job, steps, hazards and measures as an organization template (no site, people or
    signatures). names: {language code: text}; at least one. SjaError("template_name", 422)."""
    names = {code: text.strip() for code, text in names.items() if text and text.strip()}
    for code, text in names.items():
        if len(text) > MAX_TITLE:
            raise SjaError("too_long", field=f"name_{code}", n=MAX_TITLE)
    if not names:
        raise SjaError("template_name", field="name_nb")
    content = content_of(sja)
    content.update(starts_at=None, participants=[], responsible=None)
    digest = hashlib.sha256(json.dumps([sja.id, names], sort_keys=True).encode()).hexdigest()
    existing = Sja.get_or_none(Sja.uuid == template_uuid)
    if existing is not None:
        return existing
    with database.atomic():
        template = Sja.create(uuid=template_uuid, payload_hash=digest, organization=sja.organization_id, site=None,
                              template_names=names, title=content["title"], operation=content["operation"],
                              place=content["place"], links=content["links"], equipment=content["equipment"],
                              created_by=user, copied_from=sja)
        _write_content(template, content)
        audit.record(user, "sja.template", "sja", template.id, after={"from": sja.id, "names": names})
    return template


def equipment_labels(keys, organization_id):
    """[(key, name in the reader's language)] for the equipment keys, in the catalogue's order."""
    chosen = set(keys or [])
    return [(item.key, equipment_catalogue.label(item))
            for item in equipment_catalogue.catalogue(organization_id) if item.key in chosen]


def form_options(site):
    """What the form offers on this site: {"people": [(id, name)], "equipment": [(key, name)] of the
    organization's catalogue, "required": [keys] the site requires of everyone (ticked on a new SJA)}."""
    catalogue = equipment_catalogue.catalogue(site.organization_id)
    return {"people": site_people(site), "equipment": [(item.key, equipment_catalogue.label(item)) for item in catalogue],
            "required": [item.key for item in equipment_catalogue.required_for(site)]}


def copy_origin(membership, raw_id):
    """The id to keep as `copied_from` for a new SJA: an SJA the member may see or a template of the site's
    organization; None for anything else (a copy never names a record the person cannot read)."""
    if raw_id is None:
        return None
    if visible(membership, raw_id) is not None:
        return raw_id
    return raw_id if copy_source(membership, template_id=raw_id)[1] is not None else None


def may_still_change(sja):
    """False after the go or the finish: the content is then what the crew signed and worked by."""
    return sja.decision != "go" and sja.finished_at is None


def site_people(site):
    """[(user id, name)] of the site's members by name: who can be responsible or take part."""
    return [(u.id, u.name) for u in User.select(User.id, User.name).join(Membership)
            .where(Membership.site == site).order_by(fn.LOWER(User.name), User.id)]
