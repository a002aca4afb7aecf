"""The attendance PDF uses the DejaVu fonts bundled in the package, not a system package's files."""
import fnmatch
import re
import tomllib
from datetime import date
from types import SimpleNamespace

from fieldapp import pdf as pdfs
from fieldapp.checkin import exports
from fieldapp.config import PROJECT_ROOT


def test_the_fonts_and_their_licence_ship_in_the_package():
    package = PROJECT_ROOT / "fieldapp"
    patterns = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for path in (pdfs.FONT, pdfs.FONT_BOLD, package / "fonts" / "LICENSE"):
        assert path.is_file() and path.is_relative_to(package), path
        relative = str(path.relative_to(package))
        assert any(fnmatch.fnmatch(relative, p) for p in patterns["fieldapp"]), f"{relative} is not in package-data"
    assert "Bitstream Vera" in (package / "fonts" / "LICENSE").read_text()


def test_a_polish_name_is_written_in_the_bundled_font(app):
    site = SimpleNamespace(name="Łódź Żółć", address="ul. Świętokrzyska 1", client_name=None)
    with app.test_request_context():
        pdf = exports.attendance_pdf(site, [], date(2026, 3, 2), date(2026, 3, 2))
    assert pdf.startswith(b"%PDF")
    # fpdf2 embeds a subset of each TrueType font it used, named "<tag>+<font's own name>"; the core
    # fonts (which would replace these letters with "?") would appear as /Helvetica.
    fonts = set(re.findall(rb"/BaseFont /[A-Z]+\+(\S+)", pdf))
    assert fonts == {b"DejaVuSansBook", b"DejaVuSansBold"}
