"""Files that people download (exports): CSV made safe for spreadsheets, and the response that carries them.

Every export goes through `attachment`: never stored by the browser or a proxy (a shared site phone keeps
no copy of the attendance list), and each one anchors the audit log's head with the file's SHA-256, so a
file handed to Arbeidstilsynet or the client can later be tied to the log as it was then.
"""
import csv
import hashlib
import io
import logging

from flask import current_app

from . import anchors

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel, LibreOffice or
# Google Sheets (tab and carriage return too: some spreadsheets skip them and then see the formula).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
log = logging.getLogger(__name__)


def csv_cell(value):
    """One cell as text that no spreadsheet runs: None -> "", text starting with = + - @ tab or CR gets a
    leading apostrophe (which spreadsheets show as "text, not a formula"). Numbers are ours, not a
    person's input, and are left as they are so that they stay numbers."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_document(header, rows):
    """A whole CSV file as text: a BOM (so that Excel reads æøå as UTF-8), semicolons (Norwegian Excel's
    list separator), every cell through csv_cell. header and each row: sequences of cells."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return buffer.getvalue()


def attachment(body, mimetype, filename):
    """The response for an exported file: Content-Disposition attachment, Cache-Control no-store.

    body: str (sent as UTF-8) or bytes. filename: ASCII, no quotes (the callers build it from ids and
    dates). Also writes an audit anchor naming the file and its SHA-256; if the anchor folder cannot be
    written, the export is still served and the failure is logged as an error (the periodic anchor then
    fails loudly too), because the attendance list must reach an inspector on site.
    """
    data = body.encode() if isinstance(body, str) else body
    try:
        anchors.write("export", export={"name": filename, "sha256": hashlib.sha256(data).hexdigest()})
    except OSError:
        log.exception("could not anchor the audit log for the export %s", filename)
    charset = "; charset=utf-8" if mimetype.startswith("text/") else ""
    response = current_app.response_class(data, mimetype=None, content_type=mimetype + charset)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # no-store: not kept in the browser's cache or any proxy; the file is the person's own copy only.
    response.headers["Cache-Control"] = "no-store"
    return response
