"""The walkaround's report as a PDF for the client and Arbeidstilsynet: the round, people, findings with
thumbnails, responsible people and deadlines, signatures and notes. fpdf2 with the bundled DejaVu fonts."""
import io

from flask_babel import gettext as _

from .. import clock, pdf as pdfs

THUMB_MM = 30


def _when(moment, site):
    return clock.local(moment, site).strftime("%Y-%m-%d %H:%M") if moment else ""


def round_pdf(site, context, store):
    """PDF bytes of a round: context is the round page's (views._round_context); store the photo store (fieldapp/storage.py)."""
    safety_round = context["safety_round"]
    pdf = pdfs.document("P")
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    pdf.set_font("body", "B", 15)
    pdf.multi_cell(0, 8, _("Safety walkaround") + ": " + site.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    facts = [site.address, site.client_name and _("Client (byggherre)") + ": " + site.client_name,
             _("Started") + ": " + _when(safety_round.started_at, site),
             safety_round.finished_at and _("Finished") + ": " + _when(safety_round.finished_at, site)]
    pdf.multi_cell(0, 5, " · ".join(f for f in facts if f), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, _("Participants") + ": " + (", ".join(context["participants"]) or "-"),
                   new_x="LMARGIN", new_y="NEXT")
    if safety_round.summary:
        pdf.ln(1)
        pdf.set_font("body", "B", 10)
        pdf.cell(0, 6, _("Summary"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("body", size=9)
        pdf.multi_cell(0, 5, safety_round.summary, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("body", "B", 12)
    pdf.cell(0, 7, _("Findings") + f" ({len(context['findings'])})", new_x="LMARGIN", new_y="NEXT")
    texts = {i["key"]: (s["title"], i["text"]) for s in context["sections"] for i in s["items"]}
    for answer, report in context["findings"]:
        section, item = texts.get(answer.item_key, ("", answer.item_key))
        pdf.set_font("body", "B", 9)
        pdf.multi_cell(0, 5, f"{section}: {item}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("body", size=9)
        pdf.multi_cell(0, 5, answer.note, new_x="LMARGIN", new_y="NEXT")
        assignee = report.assignee.name if report.assignee_id else _("not assigned")
        deadline = report.deadline.isoformat() if report.deadline else "-"
        status = context["statuses"].get(report.status, report.status)
        pdf.multi_cell(0, 5, _("Responsible") + f": {assignee} · " + _("Deadline") + f": {deadline} · {status}",
                       new_x="LMARGIN", new_y="NEXT")
        if report.corrective_action:
            pdf.multi_cell(0, 5, _("Corrective action") + ": " + report.corrective_action, new_x="LMARGIN",
                           new_y="NEXT")
        shots = context["answers"][answer.item_key].photo_rows if answer.item_key in context["answers"] else []
        if shots:
            x, y = pdf.l_margin, pdf.get_y() + 1
            tallest = max(THUMB_MM * p.height / p.width for p in shots[:5])
            if y + tallest > pdf.h - pdf.b_margin:
                pdf.add_page()
                y = pdf.get_y()
            for shot in shots[:5]:
                try:
                    thumbnail = store.read(shot.digest, thumb=True)
                except FileNotFoundError:
                    continue
                pdf.image(io.BytesIO(thumbnail), x=x, y=y, w=THUMB_MM)
                x += THUMB_MM + 3
            pdf.set_y(y + tallest + 2)
        pdf.ln(2)
    pdf.set_font("body", "B", 12)
    pdf.cell(0, 7, _("Signatures"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    sides = {"verneombud": _("Safety representative (verneombud)"), "employer": _("Employer's representative")}
    for signature in context["signatures"]:
        how = _("with PIN") if signature.with_pin else _("on own phone")
        pdf.multi_cell(0, 5, f"{sides.get(signature.side, signature.side)}: {signature.signer.name}, "
                             f"{_when(signature.signed_at, site)} ({how})", new_x="LMARGIN", new_y="NEXT")
    if not context["signatures"]:
        pdf.cell(0, 5, _("Not signed yet."), new_x="LMARGIN", new_y="NEXT")
    if context["notes"]:
        pdf.ln(2)
        pdf.set_font("body", "B", 12)
        pdf.cell(0, 7, _("Notes after signing"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("body", size=9)
        for note in context["notes"]:
            pdf.multi_cell(0, 5, f"{note.author.name}, {_when(note.created_at, site)}: {note.text}",
                           new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
