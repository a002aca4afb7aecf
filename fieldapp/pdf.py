"""The one way the app starts a PDF (fpdf2): A4, the bundled DejaVu fonts (fieldapp/fonts, with their licence)
under the family name "body", regular and bold, so that every export reads the same and Polish, Lithuanian
and Ukrainian text (Latin Extended, Cyrillic) prints without a system font package."""
from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = FONTS / "DejaVuSans.ttf"
FONT_BOLD = FONTS / "DejaVuSans-Bold.ttf"


def document(orientation="P"):
    """A new FPDF on A4 with the "body" font family (styles "" and "B") registered.

    orientation: "P" (portrait) or "L" (landscape). No page is added: the caller adds pages and sets the font.
    """
    pdf = FPDF(orientation=orientation, format="A4")
    pdf.add_font("body", fname=FONT)
    pdf.add_font("body", style="B", fname=FONT_BOLD)
    return pdf
