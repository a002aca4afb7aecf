"""Stored evidence documents for Arbeidstilsynet's orders (issue 24): PDFs kept as sent, named by their SHA-256.

Photos of evidence go through fieldapp/photos.py like every other photo (re-encoded, no metadata); a document
is a PDF that cannot be re-encoded, so it is only checked (the "%PDF-" signature, at most MAX_DOCUMENT_BYTES,
not empty) and stored beside the photos in the app's store (fieldapp/storage.py), never under static/. It is served as an
attachment (fieldapp/downloads.py) to people who may see the order's site, never shown inline.
"""
import hashlib

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


def save(store, data):
    """Store the document once under its SHA-256 in the app's store (fieldapp/storage.py: the local folder or
    the S3 bucket, beside the photos, as "ab/<digest>.pdf"); returns the digest. StorageUnavailable (503) and
    OSError(ENOSPC) (503) pass through, before any row is written."""
    digest = hashlib.sha256(data).hexdigest()
    store.put(digest, data, ext="pdf")
    return digest
