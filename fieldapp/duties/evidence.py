"""Stored evidence documents for Arbeidstilsynet's orders (issue 24): PDFs kept as sent, named by their SHA-256.

Photos of evidence go through fieldapp/photos.py like every other photo (re-encoded, no metadata); a document
is a PDF that cannot be re-encoded, so it is only checked (the "%PDF-" signature, at most MAX_DOCUMENT_BYTES,
not empty) and stored beside the photos under the instance folder, never under static/. It is served as an
attachment (fieldapp/downloads.py) to people who may see the order's site, never shown inline.
"""
import hashlib
import os
import tempfile
from pathlib import Path

from .. import photos
from ..inputs import InputError

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # a scanned letter or a supplier's certificate; phones send far less
PDF_SIGNATURE = b"%PDF-"


class DocumentError(InputError):
    """A document refused: `reason` "evidence_too_big" (413)."""

    scope = "duties"


def is_pdf(head):
    """Whether the first bytes of a file are a PDF's signature (browsers' MIME types are not trusted)."""
    return head.startswith(PDF_SIGNATURE)


def check_document(data):
    """None when `data` (bytes read through photos.read_limited, so at most photos.MAX_BYTES) is a PDF that may
    be stored; DocumentError("evidence_too_big", n=MB) when it is over MAX_DOCUMENT_BYTES."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError("evidence_too_big", field="evidence", n=MAX_DOCUMENT_BYTES // (1024 * 1024))


def folder(app):
    return photos.folder(app) / "documents"


def path_for(root, digest):
    """The stored document of a SHA-256 hex digest; ValueError for anything else (no path from the outside)."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a document name")
    return Path(root) / digest[:2] / (digest + ".pdf")


def save(root, data):
    """Store the document (atomically: a temporary file beside it, fsync, rename); returns its digest."""
    digest = hashlib.sha256(data).hexdigest()
    path = path_for(root, digest)
    if path.exists():
        return digest  # named by content: already there
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    return digest
