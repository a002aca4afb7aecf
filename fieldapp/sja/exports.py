"""An SJA as a PDF (fpdf2, the bundled DejaVu fonts): job, steps, hazards with scores, participants and their
signatures, the decisions and lessons learned. For the site's records and the client."""
from flask_babel import gettext as _

from .. import clock, pdf as pdfs
from . import labels
from .service import equipment_labels


def _when(moment, site):
    return clock.local(moment, site).strftime("%Y-%m-%d %H:%M") if moment else ""


def sja_pdf(site, sja, steps, participants, signatures, decisions):
    """The PDF's bytes. steps: service.steps_of(sja); participants: service.participants_of(sja);
    signatures: service.signatures_of(sja); decisions: service.decisions_of(sja)."""
    levels, methods, names = labels.levels(), labels.methods(), labels.decisions()
    measure_word, who_word, after_word = _("Measure"), _("Who does it"), _("After the measure")
    pdf = pdfs.document("P")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("body", "B", size=14)
    pdf.multi_cell(0, 7, _("Safe job analysis (SJA)") + ": " + sja.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    facts = [(_("Site"), f"{site.name}, {site.address}"), (_("Work operation"), sja.operation),
             (_("Place"), sja.place), (_("Start"), _when(sja.starts_at, site)),
             (_("Responsible"), sja.responsible.name if sja.responsible_id else ""),
             (_("Links"), sja.links),
             (_("Equipment and protective equipment"), ", ".join(n for _k, n in equipment_labels(
                 sja.equipment, sja.organization_id))),
             (_("Version"), str(sja.revision))]
    for name, value in facts:
        if value:
            pdf.multi_cell(0, 5, f"{name}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    # One block per hazard at full width: as readable on paper as a table, and the text is broken into lines
    # once (an 8-column fpdf2 table measured each character several times: 4 s for the largest SJA).
    for number, step in enumerate(steps, 1):
        pdf.set_font("body", "B", size=11)
        pdf.multi_cell(0, 6, f"{number}. {step.title}", new_x="LMARGIN", new_y="NEXT")
        for hazard in step.hazard_rows:
            pdf.set_font("body", "B", size=9)
            risk = f"{hazard.probability}x{hazard.severity}={hazard.score} {levels[hazard.level]}"
            pdf.multi_cell(0, 5, f"{risk}: {hazard.cause}" + (f" → {hazard.consequence}" if hazard.consequence else ""),
                           new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("body", size=9)
            if hazard.measure:
                who = f" ({who_word}: {hazard.measure_by})" if hazard.measure_by else ""
                pdf.multi_cell(0, 5, f"{measure_word}: {hazard.measure}{who}", new_x="LMARGIN", new_y="NEXT")
            if hazard.score_after:
                pdf.multi_cell(0, 5, f"{after_word}: {hazard.probability_after}x{hazard.severity_after}="
                                     f"{hazard.score_after} {levels[hazard.level_after]}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    pdf.ln(3)
    pdf.set_font("body", "B", size=11)
    pdf.cell(0, 6, _("Participants"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    for person, signature in participants:
        state = (_("signed %(when)s, %(how)s", when=_when(signature.signed_at, site), how=methods[signature.method])
                 if signature else _("not signed"))
        pdf.multi_cell(0, 5, f"{person.name}: {state}", new_x="LMARGIN", new_y="NEXT")
    earlier = [s for s in signatures if s.revision != sja.revision]
    if earlier:
        pdf.set_font("body", size=8)
        for signature in earlier:
            pdf.multi_cell(0, 4, _("%(name)s signed version %(version)s on %(when)s", name=signature.user.name,
                                   version=signature.revision, when=_when(signature.signed_at, site)),
                           new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("body", size=9)
    pdf.ln(3)
    pdf.set_font("body", "B", size=11)
    pdf.cell(0, 6, _("Decision"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    if not decisions:
        pdf.cell(0, 5, _("Not decided yet"), new_x="LMARGIN", new_y="NEXT")
    for decision in decisions:
        line = f"{_when(decision.at, site)} {decision.decided_by.name}: {names[decision.decision]}"
        pdf.multi_cell(0, 5, line + (f" ({decision.note})" if decision.note else ""), new_x="LMARGIN", new_y="NEXT")
    if sja.lessons:
        pdf.ln(3)
        pdf.set_font("body", "B", size=11)
        pdf.cell(0, 6, _("Lessons learned"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("body", size=9)
        pdf.multi_cell(0, 5, sja.lessons, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
