"""The phone's outbox (static/js/outbox-core.js) sends X-Outbox: 1 and wants a status with a short text."""
from flask import request


def from_outbox():
    return request.headers.get("X-Outbox") == "1"


def answer(status, message=""):
    return message, status, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
