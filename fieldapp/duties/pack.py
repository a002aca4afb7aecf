"""The inspector's pack: one PDF for a site and a period, for Arbeidstilsynet's visit (issue 24).

Sections: the attendance list summary (byggherreforskriften § 15), the register of injuries without medical
details (AML § 5-1; fieldapp/stats), walkarounds and meetings held, open orders (AML § 18-6), the verneombud
(AML § 6-1) and the competence matrix summary (AML § 3-2). fpdf2 with the bundled DejaVu fonts.
"""
import io
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from flask_babel import gettext as _
from flask_babel import ngettext
from PIL import Image, UnidentifiedImageError

from .. import clock
from .. import pdf as pdfs
from ..storage import StorageUnavailable
from ..stats import exports as stats_exports
from . import texts

REGISTER_COLUMNS = (0, 3, 4, 5, 6, 7, 9, 10, 14, 15)  # of stats.exports.register_header(): no medical details


def _heading(pdf, text):
    pdf.ln(3)
    pdf.set_font("body", "B", 12)
    pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)


def _line(pdf, text):
    pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def _table(pdf, widths, header, rows, empty):
    if not rows:
        _line(pdf, empty)
        return
    rows = [pdfs.row_cells(row) for row in rows]  # a long order or response: cut, never a 500
    # widths are wished-for shares: a date, a time or a word of a name never breaks inside (pdf.column_widths).
    widths = pdfs.column_widths(pdf, header, widths, rows=rows)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.5, first_row_as_headings=True) as table:
        table.row(header)
        for row in rows:
            table.row(row)


def _figures(pdf, pairs):
    """A two-column table of (label, number)."""
    with pdf.table(col_widths=(120, 40), width=160, align="LEFT", text_align="LEFT", line_height=5,
                   first_row_as_headings=False) as table:
        for label, value in pairs:
            table.row([label, str(value)])


THUMB_MM = 30  # width of an evidence photo's thumbnail in the pack
THUMBS_PER_ORDER = 5
THUMB_RATIO = 1.5  # the tallest a thumbnail is drawn, as a share of its width


def _evidence(pdf, data, orders):
    """Under each order with evidence: the linked report, a line per photo and document, and the first photos'
    thumbnails (the stored 320 px thumbnails, so the pack stays small)."""
    for order, inspection in orders:
        items = data["evidence"].get(order.id, [])
        if not items and not order.report_id:
            continue
        pdf.set_font("body", "B", 9)
        _line(pdf, _("Evidence for the order: %(order)s", order=order.text[:80]))
        pdf.set_font("body", size=9)
        if order.report_id:
            _line(pdf, "· " + _("Report no. %(report_id)s and its follow-up", report_id=order.report_id))
        for item in items:
            kind = _("Photo") if item.kind == "photo" else _("Document")
            day = clock.local(item.created_at, data["site"]).date().isoformat()  # the site's day, as the tables
            _line(pdf, f"· {kind}: {item.name or item.digest[:12]} ({day})")
        shots = [i for i in items if i.kind == "photo"][:THUMBS_PER_ORDER]
        fetched = data.get("thumbs", {})  # read once for the whole pack, within its time budget
        thumbs = [_sized(fetched[i.digest]) for i in shots if i.digest in fetched]
        thumbs = [t for t in thumbs if t is not None]
        if thumbs:
            _thumbnails(pdf, thumbs)


def _thumbnails(pdf, thumbs):
    """Draw (file object, width mm, height mm) thumbnails in a row from the top of the space below the text,
    each exactly its own size (no centring inside a box, which left a gap above a wide photo and let the next
    heading run into it), and leave pdf's y under the tallest: a new page first when the row does not fit.
    Returns the boxes drawn as (page, x, y, w, h) in mm from the page's top left (for tests)."""
    tallest = max(h for _f, _w, h in thumbs)
    y = pdf.get_y() + 1
    if y + tallest > pdf.h - pdf.b_margin:
        pdf.add_page()
        y = pdf.get_y()
    x, boxes = pdf.l_margin, []
    for file, w, h in thumbs:
        if x + w > pdf.w - pdf.r_margin:  # bounded by THUMBS_PER_ORDER; never past the right margin
            break
        pdf.image(file, x=x, y=y, w=w, h=h)
        boxes.append((pdf.page, x, y, w, h))
        x += THUMB_MM + 3
    pdf.set_xy(pdf.l_margin, y + tallest + 2)
    return boxes


def build(data):
    """PDF bytes of the pack. data: service.pack_data(...) (a dict; see there)."""
    site, period = data["site"], data["period"]
    data = dict(data, thumbs=fetch_thumbnails(data["store"], _thumb_digests(data)))
    pdf = pdfs.document("P")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("body", "B", 15)
    pdf.cell(0, 8, _("Inspector's pack"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    _line(pdf, f"{site.name} · {site.address} · {period.start.isoformat()} – {period.end.isoformat()}")
    if site.client_name:
        _line(pdf, _("Client (byggherre)") + f": {site.client_name}")

    a = data["attendance"]
    _heading(pdf, _("Attendance list (byggherreforskriften § 15)"))
    _figures(pdf, [(_("Check-ins"), a["checkins"]), (_("People"), a["people"]), (_("Days with check-ins"), a["days"]),
                   (_("People on the list lacking a date of birth, or hired in without the agency"), a["lacking"])])

    _heading(pdf, _("Register of injuries (AML § 5-1)"))
    _line(pdf, _("Without medical details."))
    header = stats_exports.register_header()
    rows = []
    for row in data["injuries"]:
        cells = stats_exports.register_cells(row)
        rows.append([cells[i] for i in REGISTER_COLUMNS])
    pdf.set_font("body", size=7)
    _table(pdf, (18, 20, 20, 14, 40, 22, 12, 12, 14, 18), [header[i] for i in REGISTER_COLUMNS], rows,
           _("No injuries were reported in this period."))
    pdf.set_font("body", size=9)

    _heading(pdf, _("Safety walkarounds"))
    _line(pdf, ngettext("Next walkaround due: %(date)s (every %(num)s day)",
                        "Next walkaround due: %(date)s (every %(num)s days)", data["next_round"][1],
                        date=clock.format_date(data["next_round"][0])))
    _table(pdf, (35, 55, 50, 50), [_("Date"), _("Started by"), _("Findings (open)"), _("Signed by both sides")],
           [[clock.local(r.started_at, data["site"]).date().isoformat(), r.started_by.name,
             f"{r.n_findings} ({r.n_open})", _("yes") if r.signed_at else _("no")] for r in data["rounds"]],
           _("No walkaround in the period."))

    _heading(pdf, _("Meetings"))
    _table(pdf, (35, 75, 40, 40), [_("Date"), _("Meeting"), _("Approved"), _("Verneombud present")],
           [[m.held_on.isoformat(), data["kind_names"].get(m.kind, m.kind),
             clock.local(m.approved_at, data["site"]).date().isoformat() if m.approved_at else "",
             _("yes") if m.id in data["with_verneombud"] else _("no")] for m in data["meetings"]],
           _("No meeting in the period."))

    _heading(pdf, _("Open orders from Arbeidstilsynet"))
    _table(pdf, (30, 120, 40), [_("Reference"), _("Order"), _("Deadline")],
           [[i.reference, o.text, o.deadline.isoformat()] for o, i in data["orders"]],
           _("No open orders from Arbeidstilsynet."))
    _evidence(pdf, data, data["orders"])
    if data["closed_orders"]:
        _heading(pdf, _("Orders closed in the period"))
        _table(pdf, (30, 70, 25, 65), [_("Reference"), _("Order"), _("Deadline"), _("Response")],
               [[i.reference, o.text, o.deadline.isoformat(), o.response] for o, i in data["closed_orders"]], "")
        _evidence(pdf, data, data["closed_orders"])

    _heading(pdf, _("Safety representative (verneombud)"))
    _table(pdf, (50, 30, 50, 60), [_("Name"), _("Role"), _("Term"), _("40-hour course")],
           [[t.user.name, str(texts.TERM_ROLE_NAMES[t.role]),
             f"{t.elected_from.isoformat()} – {t.elected_to.isoformat()}",
             _("yes") if t.user_id in data["trained"] else _("no")] for t, state in data["terms"]
            if state in ("current", "ending")],
           _("No safety representative (verneombud) is registered."))

    _heading(pdf, _("Competence matrix"))
    counts = data["competence"]
    _figures(pdf, [(_("Required courses"), data["requirements"]), (_("Valid"), counts.get("valid", 0)),
                   (_("Expiring"), sum(v for k, v in counts.items() if k.startswith("expires_"))),
                   (_("Waiting for approval"), counts.get("waiting", 0)), (_("Expired"), counts.get("expired", 0)),
                   (_("Missing"), counts.get("missing", 0))])
    return bytes(pdf.output())


THUMB_BUDGET_SECONDS = 5.0  # all the pack's thumbnails together: a hanging store cannot hold the pack longer
THUMB_WORKERS = 4


def _thumb_digests(data):
    """The photos whose thumbnails the pack draws: the first THUMBS_PER_ORDER of each order listed, in order."""
    out = []
    for order, _inspection in data["orders"] + data["closed_orders"]:
        shots = [i for i in data["evidence"].get(order.id, []) if i.kind == "photo"][:THUMBS_PER_ORDER]
        out += [i.digest for i in shots if i.digest not in out]
    return out


def fetch_thumbnails(store, digests, budget=None):
    """{digest: thumbnail bytes} for the digests read from `store` within `budget` seconds in all (default
    THUMB_BUDGET_SECONDS), THUMB_WORKERS at a time. A thumbnail missing, unreachable or not read in time is left
    out (the pack still lists the photo by name); reads still running are abandoned (they end at the store
    client's own timeouts, fieldapp/storage.py). {} without a store or digests."""
    if store is None or not digests:
        return {}
    budget = THUMB_BUDGET_SECONDS if budget is None else budget
    deadline = time.monotonic() + budget
    pool = ThreadPoolExecutor(max_workers=THUMB_WORKERS, thread_name_prefix="pack-thumb")
    futures = {pool.submit(_thumbnail, store, digest): digest for digest in digests}
    out = {}
    pending = set(futures)
    try:
        while pending:  # bounded: each pass waits until a read ends or the deadline passes
            left = deadline - time.monotonic()
            if left <= 0:
                break
            done, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)
            for future in done:
                if future.exception() is None and future.result() is not None:  # a failed read: left out
                    out[futures[future]] = future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return out


def _thumbnail(store, digest):
    """The stored thumbnail of an evidence photo (bytes), or None when the store has none or cannot be reached
    now (the pack still lists the photo by name)."""
    try:
        return store.read(digest, thumb=True)
    except (FileNotFoundError, StorageUnavailable):
        return None


def _sized(data):
    """(file object for fpdf2, width mm, height mm) of a thumbnail's bytes, fitted inside
    THUMB_MM x THUMB_MM * THUMB_RATIO with its aspect kept; None when the bytes are not an image."""
    file = io.BytesIO(data)
    try:
        with Image.open(file) as image:  # reads the header only: the size
            px_w, px_h = image.size
    except (UnidentifiedImageError, OSError):
        return None
    file.seek(0)
    return (file, *_fit(px_w, px_h))


def _fit(px_w, px_h):
    """(width, height) in mm of a px_w x px_h image inside THUMB_MM x THUMB_MM * THUMB_RATIO, aspect kept."""
    w, h = THUMB_MM, THUMB_MM * px_h / max(px_w, 1)
    if h > THUMB_MM * THUMB_RATIO:
        w, h = w * THUMB_MM * THUMB_RATIO / h, THUMB_MM * THUMB_RATIO
    return w, h
