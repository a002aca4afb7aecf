"""The minutes as a PDF (fpdf2 with the bundled DejaVu fonts: Polish, Lithuanian and Ukrainian names too)."""
from flask_babel import gettext as _

from .. import clock
from .. import pdf as pdfs
from ..reports import labels
from . import kinds as kind_catalogue
from . import service


def _sides():
    return {"employer": _("Employer's side"), "workers": _("Workers"),
            "verneombud": _("Safety representative (verneombud)"), "other": _("Others")}


def _approval(meeting):
    """Whether the minutes are approved, and by whom and on which day (the site's, the organization's default for
    the AMU): a record shown to a client or Arbeidstilsynet says who stands behind it."""
    if meeting.status != "approved":
        return _("Draft, not approved")
    people = {}  # by person, not by name: two people of the same name are both named (found by the breaker)
    for person in (meeting.approved_by, meeting.employer_approved_by, meeting.workers_approved_by):
        if person is not None:
            people.setdefault(person.id, person.name)
    if not people or meeting.approved_at is None:
        return _("Approved")
    day = clock.format_date(meeting.approved_at, site=meeting.site if meeting.site_id else None)
    return _("Approved by %(names)s on %(date)s", names=", ".join(people.values()), date=day)


def minutes_pdf(meeting, language):
    """bytes of a PDF: the meeting, who attended by side, each item with its note, vote and decisions (person,
    deadline, follow-up status), approval and amendments."""
    items, decisions = service.agenda(meeting)
    titles = service.item_titles(items, language)
    name = service.kinds_for(meeting.organization_id, language).get(meeting.kind, (meeting.kind, ""))[0]
    pdf = pdfs.document("P")
    pdf.set_title(_("Minutes"))
    pdf.add_page()
    width = pdf.epw

    def heading(text, size=12):
        pdf.set_font("body", "B", size)
        pdf.multi_cell(width, 7, text, new_x="LMARGIN", new_y="NEXT")

    def line(text):
        pdf.set_font("body", "", 10)
        pdf.multi_cell(width, 5, pdfs.printable(text), new_x="LMARGIN", new_y="NEXT")

    heading(_("Minutes") + f": {name}", 15)
    # The AMU is the organization's: its name where a site meeting has the site's (" · 2026-12-01" was the line).
    line(f"{meeting.site.name if meeting.site_id else meeting.organization.name} · {meeting.held_on.isoformat()}")
    line(_approval(meeting))
    heading(_("Present"))
    sides = _sides()
    for row in service.attendance(meeting):
        line(f"{row.name} ({sides.get(row.side, row.side)})")
    if meeting.topics:
        heading(_("Topics"))
        line(", ".join(str(kind_catalogue.MORNING_TOPICS.get(t, t)) for t in meeting.topics))
    if meeting.note:
        line(meeting.note)
    heading(_("Agenda"))
    statuses = labels.statuses()
    for number, item in enumerate(items, 1):
        pdf.set_font("body", "B", 10)
        pdf.multi_cell(width, 5, f"{number}. {titles[item.id]}", new_x="LMARGIN", new_y="NEXT")
        if item.note:
            line(item.note)
        if item.vote_unanimous is not None:
            line(_("Vote: unanimous") if item.vote_unanimous else _("Vote: not unanimous"))
            line(_("Majority") + f": {item.vote_majority}")
            if item.vote_minority:
                line(_("Minority") + f": {item.vote_minority}")
        for decision in decisions.get(item.id, []):
            follow = statuses.get(decision.report.status, "") if decision.report_id else ""
            line(_("Decision") + f": {decision.text} — {decision.person.name}, {decision.deadline.isoformat()}"
                 + (f" ({follow})" if follow else ""))
    for decision in decisions.get(None, []):
        line(_("Decision") + f": {decision.text} — {decision.person.name}, {decision.deadline.isoformat()}")
    amendments = service.amendments(meeting)
    if amendments:
        heading(_("Amendments"))
        for row in amendments:
            line(row.text)
    return bytes(pdf.output())
