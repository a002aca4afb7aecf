"""The competence matrix as files: CSV for spreadsheets, PDF for the client and Arbeidstilsynet."""
from flask_babel import gettext as _

from .. import downloads, pdf as pdfs
from ..sites.forms import role_label
from .labels import status_labels


def _header(m):
    return [_("Name"), _("Role"), *(m.names.get(r.course, r.course) for r in m.requirements)]


def _cells(m, row):
    labels = status_labels()
    return [row.user.name, str(role_label(row.role)), *("" if cell is None else str(labels[cell]) for cell in row.cells)]


def matrix_csv(m):
    """The matrix as CSV text (downloads.csv_document: BOM, semicolons, formula-safe cells)."""
    return downloads.csv_document(_header(m), (_cells(m, row) for row in m.rows))


def matrix_pdf(site, m):
    """The matrix as an A4 landscape PDF with the bundled DejaVu fonts (Polish and Lithuanian names too)."""
    pdf = pdfs.document("L")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_page()
    pdf.set_font("body", size=14)
    pdf.cell(0, 8, _("Competence") + f": {site.name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", size=9)
    pdf.cell(0, 6, f"{site.address} · {m.today.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("body", size=7)
    columns = len(m.requirements)
    rest = 277 - 45 - 20
    widths = (45, 20, *([rest / columns] * columns)) if columns else (45, 20)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4, first_row_as_headings=True) as table:
        table.row(pdfs.row_cells(_header(m)))
        for row in m.rows:
            table.row(pdfs.row_cells(_cells(m, row)))
    return bytes(pdf.output())
