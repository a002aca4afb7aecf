"""Web Push: checking a browser's subscription, and sending many messages at once with pywebpush.

pywebpush encrypts each message for its subscription (aes128gcm, RFC 8291) and posts it. What we add:
one shared HTTP connection pool (kept-alive connections to each push service), a bounded thread pool, and
the VAPID Authorization header signed once per push service origin rather than once per message.
"""
import base64
import binascii
import ipaddress
import os
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlparse

import urllib3
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPusher

WORKERS = 64
TIMEOUT = (3.05, 10)  # connect, read (seconds)
VAPID_LIFETIME = 12 * 3600
MAX_ENDPOINT = 1000


class PushError(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _b64url(text):
    text = str(text or "")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise PushError("bad_keys") from None


def _private_host(host):
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified)


def check_subscription(data, allow_local=False):
    """A PushSubscription.toJSON() from the browser -> {endpoint, p256dh, auth}, or PushError."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise PushError("bad_json")
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise PushError("bad_endpoint")
    url = urlparse(endpoint)
    if not url.hostname or url.username or url.password:
        raise PushError("bad_endpoint")
    if not allow_local:
        # Push services are public HTTPS servers; anything else would make the app post to an inside address.
        if url.scheme != "https" or _private_host(url.hostname):
            raise PushError("bad_endpoint")
    elif url.scheme not in ("https", "http"):
        raise PushError("bad_endpoint")
    p256dh, auth = data["keys"].get("p256dh"), data["keys"].get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str) or len(p256dh) > 100 or len(auth) > 40:
        raise PushError("bad_keys")
    point, secret = _b64url(p256dh), _b64url(auth)
    if len(point) != 65 or point[0] != 4 or len(secret) != 16:
        raise PushError("bad_keys")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise PushError("bad_keys") from None
    return {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}


@dataclass(frozen=True)
class Message:
    key: object  # the caller's handle (e.g. the subscription id)
    endpoint: str
    p256dh: str
    auth: str
    payload: bytes
    ttl: int
    urgency: str = "normal"
    topic: str = ""


@dataclass(frozen=True)
class Result:
    key: object
    status: int | None  # None: no answer (network)
    retry_after: int | None = None

    @property
    def ok(self):
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self):
        return self.status in (404, 410)

    @property
    def retry(self):
        return self.status is None or self.status == 429 or self.status >= 500


class _Response:
    """What pywebpush reads from an answer (status_code, headers, text)."""

    def __init__(self, answer):
        self.status_code = answer.status
        self.headers = answer.headers
        self.text = answer.data.decode("utf-8", "replace")


class Session:
    """The one HTTP connection pool for every push message, in the shape pywebpush posts through
    (`requests_session.post(url, data=, headers=, timeout=)`).

    urllib3 directly rather than requests.Session: requests re-reads proxy settings from the environment
    and merges cookies and hooks on every request, which measured about half the CPU per message.
    """

    def __init__(self, workers, timeout):
        connect, read = timeout
        self.timeout = urllib3.Timeout(connect=connect, read=read)
        proxy = urllib.request.getproxies().get("https")
        options = dict(num_pools=16, maxsize=workers, block=False, retries=False,
                       ca_certs=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE"))
        self.pool = urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)

    def post(self, url, data=None, headers=None, timeout=None):
        answer = self.pool.request("POST", url, body=data, headers=dict(headers or {}), timeout=self.timeout,
                                   redirect=False)
        return _Response(answer)

    def close(self):
        self.pool.clear()


class Sender:
    """Sends Messages concurrently. One per process; thread-safe."""

    def __init__(self, private_key_path, subject, workers=WORKERS, timeout=TIMEOUT):
        self.vapid = Vapid.from_file(private_key_file=private_key_path)
        self.subject = subject
        self.timeout = timeout
        self.session = Session(workers, timeout)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push")
        self._lock = threading.Lock()
        self._signed = {}  # origin -> (expires, headers)

    def vapid_headers(self, endpoint):
        url = urlparse(endpoint)
        origin = f"{url.scheme}://{url.netloc}"
        now = int(time.time())
        with self._lock:
            cached = self._signed.get(origin)
            if cached is None or cached[0] - 3600 < now:
                expires = now + VAPID_LIFETIME
                headers = self.vapid.sign({"sub": self.subject, "aud": origin, "exp": expires})
                cached = self._signed[origin] = (expires, dict(headers))
        return cached[1]

    def send_one(self, message):
        headers = dict(self.vapid_headers(message.endpoint))
        headers["Urgency"] = message.urgency
        if message.topic:
            headers["Topic"] = message.topic  # a newer message with the same topic replaces the older one
        info = {"endpoint": message.endpoint, "keys": {"p256dh": message.p256dh, "auth": message.auth}}
        try:
            response = WebPusher(info, requests_session=self.session).send(
                message.payload, headers, ttl=message.ttl, timeout=self.timeout, content_encoding="aes128gcm")
        except urllib3.exceptions.HTTPError:
            return Result(message.key, None)
        retry_after = response.headers.get("Retry-After")
        return Result(message.key, response.status_code,
                      int(retry_after) if retry_after and retry_after.isdigit() else None)

    def send_many(self, messages):
        """Results in the order of messages; at most `workers` requests in flight."""
        return list(self.pool.map(self.send_one, messages))

    def close(self):
        self.pool.shutdown(wait=True)
        self.session.close()


_senders = {}
_senders_lock = threading.Lock()


def sender_for(app):
    """The process's Sender for this app's key (made on first use)."""
    key = (app.config["VAPID_PRIVATE_KEY_PATH"], app.config["VAPID_SUBJECT"])
    with _senders_lock:
        sender = _senders.get(key)
        if sender is None:
            sender = _senders[key] = Sender(*key, workers=app.config.get("PUSH_WORKERS", WORKERS))
    return sender
