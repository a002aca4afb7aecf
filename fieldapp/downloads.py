"""Files that people download (exports): CSV made safe for spreadsheets, and the response that carries them.

Every export goes through `attachment`: never stored by the browser or a proxy (a shared site phone keeps
no copy of the attendance list), and each one anchors the audit log's head with the file's SHA-256, so a
file handed to Arbeidstilsynet or the client can later be tied to the log as it was then.
"""
import csv
import hashlib
import io
import logging

from babel.numbers import get_decimal_symbol
from flask import current_app, redirect, request, send_file, stream_with_context
from werkzeug.exceptions import NotFound

from . import anchors
from .i18n import formatting_locale
from .storage import CHUNK, LocalStorage

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel, LibreOffice or
# Google Sheets (tab and carriage return too: some spreadsheets skip them and then see the formula).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
log = logging.getLogger(__name__)


def csv_cell(value):
    """One cell as text that no spreadsheet runs: None -> "", text starting with = + - @ tab or CR gets a
    leading apostrophe (which spreadsheets show as "text, not a formula"). Numbers are ours, not a
    person's input, and are left as they are so that they stay numbers; a decimal is written with the reader's
    decimal mark (a comma in bokmål, Polish, Lithuanian and Ukrainian), as the spreadsheet that opens a
    semicolon-separated file reads it: "8.0" is text or a date in Norwegian Excel, "8,0" a number."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(value).replace(".", get_decimal_symbol(formatting_locale()))
    if isinstance(value, int) and not isinstance(value, bool):
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


def csv_lines(header, rows):
    """A CSV file as a generator of text pieces (one per row, the first with the BOM): csv_document's format,
    for a file too long to hold in memory. rows: an iterable of sequences of cells (e.g. a peewee iterator)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def streamed_attachment(pieces, mimetype, filename):
    """attachment() for a long export: the body is sent as `pieces` (str or bytes) are made, so the first bytes
    leave at once and memory does not grow with the file's length.

    The audit anchor with the file's SHA-256 is written when the last piece has been made (a download the
    client breaks off leaves no anchor: nobody holds that file). The generator runs inside the request's
    context (stream_with_context), so it may query the database and translate.
    """
    def body():
        digest = hashlib.sha256()
        for piece in pieces:
            data = piece.encode() if isinstance(piece, str) else piece
            digest.update(data)
            yield data
        try:
            anchors.write("export", export={"name": filename, "sha256": digest.hexdigest()})
        except OSError:
            log.exception("could not anchor the audit log for the export %s", filename)

    charset = "; charset=utf-8" if mimetype.startswith("text/") else ""
    response = current_app.response_class(stream_with_context(body()), mimetype=None, content_type=mimetype + charset)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def photo(store, digest, thumb=False, private_copy=False):
    """A stored photo (re-encoded JPEG, named by the hash of its bytes) for a person who may see it.

    store: the app's photo store (fieldapp/storage.py); digest: 64 hex (ValueError otherwise); thumb: the
    thumbnail. The caller has checked the person's right. Private and immutable: the name never changes, and
    no shared cache keeps it; private_copy=True (certificates) is no-store instead: a shared phone keeps none.
    Through the app (PHOTO_SERVING "app", the default): an If-None-Match with the ETag is answered 304 without
    asking the store; a local file is sent by send_file, an S3 object streamed in 64 KB pieces (never whole in
    memory). PHOTO_SERVING "presigned" and a store with URLs: a 302 to a URL valid PHOTO_URL_SECONDS.
    NotFound (404) when the store has no such photo; StorageUnavailable (503) when it cannot be reached.
    """
    etag = digest + ("t" if thumb else "")
    cache_control = "private, no-store" if private_copy else "private, max-age=31536000, immutable"
    config = current_app.config
    if config.get("PHOTO_SERVING") == "presigned" and not private_copy:
        url = store.url(digest, thumb, seconds=config.get("PHOTO_URL_SECONDS", 300))
        if url:
            response = redirect(url, 302)
            response.headers["Cache-Control"] = "private, no-store"  # the URL expires; the photo does not
            return response
    if isinstance(store, LocalStorage):
        path = store.path(digest, thumb)
        if not path.exists():
            raise NotFound()
        response = send_file(path, mimetype="image/jpeg", conditional=True, etag=etag, max_age=365 * 24 * 3600)
        response.headers["Cache-Control"] = cache_control
        return response
    if etag in request.if_none_match and not private_copy:
        response = current_app.response_class(status=304)
    else:
        try:
            body = store.open(digest, thumb)
        except FileNotFoundError:
            raise NotFound()

        def pieces():
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        response = current_app.response_class(pieces(), mimetype="image/jpeg", direct_passthrough=True)
        if body.size is not None:
            response.content_length = int(body.size)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    return response
