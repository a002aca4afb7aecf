"""Web Push: checking a browser's subscription, and sending many messages at once with pywebpush.

pywebpush encrypts each message for its subscription (aes128gcm, RFC 8291) and posts it. What we add:
one shared HTTP connection pool (kept-alive connections to each push service), a bounded thread pool, and
the VAPID Authorization header signed once per push service origin rather than once per message.
"""
import base64
import binascii
import os
import re
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import urllib3
import urllib3.util
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPusher

from .inputs import InputError, whole_number

WORKERS = 64
TIMEOUT = (3.05, 10)  # connect, read (seconds)
VAPID_LIFETIME = 12 * 3600
MAX_ENDPOINT = 1000


class PushError(InputError):
    """A subscription the app refuses: `reason` picks the message (fieldapp.inputs)."""


def _b64url(text):
    text = str(text or "")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise PushError("bad_keys") from None


# Issue 14: the web push services the browsers use. An operator adds others with PUSH_ALLOWED_HOSTS.
# Sources: the endpoints Chrome (FCM), Firefox (autopush), Safari (APNs web push) and Edge (WNS) hand out.
DEFAULT_ALLOWED_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.push.services.mozilla.com",
    "*.push.apple.com",
    "*.notify.windows.com",
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


def allowed_hosts(config):
    """The push service hosts endpoints may name: the defaults plus config["PUSH_ALLOWED_HOSTS"]
    (an iterable, or a comma-separated string from the environment)."""
    extra = config.get("PUSH_ALLOWED_HOSTS") or ()
    if isinstance(extra, str):
        extra = extra.split(",")
    return DEFAULT_ALLOWED_HOSTS + tuple(h.strip().lower() for h in extra if h.strip())


def _host_matches(host, patterns):
    for pattern in patterns:
        if pattern.startswith("*."):
            suffix = pattern[1:]  # ".push.apple.com": a sub-domain, never the bare suffix or "evilpush.apple.com"
            if host.endswith(suffix) and len(host) > len(suffix):
                return True
        elif host == pattern:
            return True
    return False


def endpoint_host(endpoint, allow_local=False):
    """The normalised host an endpoint names, or None when it is not a plain https URL we could post to.

    Refused: any other scheme (http only on loopback with allow_local); userinfo (`https://fcm...@evil/`);
    a port other than 443 (any port on loopback with allow_local); non-ASCII hosts (IDN look-alikes);
    backslashes, whitespace or control characters (where parsers disagree); an empty label. The URL is
    parsed twice, by the standard library and by urllib3 (which sends it), and both must agree.
    """
    if any(ord(c) <= 32 or c in "\\\x7f" for c in endpoint) or not endpoint.isascii():
        return None
    try:
        url = urlsplit(endpoint)
        port = url.port
        sent = urllib3.util.parse_url(endpoint)
    except (ValueError, urllib3.exceptions.LocationParseError):
        return None
    if "@" in url.netloc or url.username is not None or sent.auth:
        return None
    hostname = url.hostname or ""
    # One trailing dot names the same host in DNS ("fcm.googleapis.com."); anything more is not a host.
    host = hostname[:-1] if hostname.endswith(".") else hostname
    if not host or ".." in hostname or hostname.startswith("."):
        return None
    if (sent.host or "").strip("[]").lower() != hostname or sent.port != port:
        return None
    local = allow_local and host in LOOPBACK_HOSTS
    if url.scheme == "https":
        if port not in (None, 443) and not local:
            return None
    elif not (url.scheme == "http" and local):
        return None
    if not local and not set(host) <= _HOST_CHARS:
        return None
    return host


def endpoint_allowed(endpoint, hosts, allow_local=False):
    """True when the app may post to this endpoint: https on a known push service (exact host or `*.suffix`
    match on the normalised host, port 443), or, with allow_local (tests, bench), loopback."""
    host = endpoint_host(endpoint, allow_local)
    if host is None:
        return False
    return (allow_local and host in LOOPBACK_HOSTS) or _host_matches(host, hosts)


class EndpointCheck:
    """endpoint_allowed for many endpoints of a few push services (one delivery run): the answer is kept per
    `scheme://authority`, the part of the URL it depends on, so a fanout to 10,000 phones parses each push
    service's URL once rather than each phone's twice.

    The whole endpoint is still checked each time for the characters endpoint_host refuses anywhere (control
    characters, spaces, backslashes, non-ASCII): with none of them, both parsers end the authority at the first
    "/", "?" or "#", so the part kept is the part both parsers read the host and port from.
    """

    def __init__(self, hosts, allow_local=False):
        self.hosts = hosts
        self.allow_local = allow_local
        self.answers = {}

    def __call__(self, endpoint):
        if not endpoint.isascii() or _REFUSED_ANYWHERE.search(endpoint):
            return False
        origin, _target = split_origin(endpoint)
        if origin is None:
            return endpoint_allowed(endpoint, self.hosts, self.allow_local)
        answer = self.answers.get(origin)
        if answer is None:
            answer = self.answers[origin] = endpoint_allowed(origin, self.hosts, self.allow_local)
        return answer


_REFUSED_ANYWHERE = re.compile(r"[\x00-\x20\\\x7f]")  # as endpoint_host: <= 32, backslash, DEL
_AUTHORITY = re.compile(r"[^/?#]*")


def split_origin(url):
    """("scheme://authority", the rest: path, query, fragment) of a URL, cut where urlsplit and urllib3 end the
    authority (the first "/", "?" or "#"); (None, url) without "://". Text only, no parsing: cheap enough for
    every message of a fanout (EndpointCheck, Session.post, Sender.vapid_headers)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return None, url
    authority = _AUTHORITY.match(rest).group(0)
    return f"{scheme}://{authority}", rest[len(authority):]


def canonical_endpoint(endpoint):
    """One spelling per endpoint, so that `FCM.googleapis.com`, `fcm.googleapis.com.` and `:443` cannot pass
    for another device's endpoint (the owner binding compares stored strings). Call on an allowed endpoint:
    scheme and host lower case, no trailing dot, no default port; path and query as sent."""
    url = urlsplit(endpoint)
    host = url.hostname.rstrip(".")
    port = url.port
    default = {"https": 443, "http": 80}[url.scheme.lower()]
    netloc = f"[{host}]" if ":" in host else host
    if port not in (None, default):
        netloc += f":{port}"
    return urlunsplit((url.scheme.lower(), netloc, url.path, url.query, ""))


def check_subscription(data, hosts=DEFAULT_ALLOWED_HOSTS, allow_local=False):
    """A PushSubscription.toJSON() from the browser -> {endpoint, p256dh, auth}, or PushError.

    Reasons: bad_json (not a subscription), bad_endpoint (not on an allowed push service, see
    endpoint_allowed), bad_keys (not a P-256 point and a 16-byte secret).
    """
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise PushError("bad_json")
    endpoint = data.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_ENDPOINT:
        raise PushError("bad_endpoint")
    if not endpoint_allowed(endpoint, hosts, allow_local):
        raise PushError("bad_endpoint")
    endpoint = canonical_endpoint(endpoint)
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
        self.direct = not proxy
        self._targets = {}  # "scheme://authority" -> (host, port, scheme), parsed once by urllib3

    def post(self, url, data=None, headers=None, timeout=None):
        if not self.direct:  # through a proxy: the manager writes the request line the proxy needs
            return _Response(self.pool.request("POST", url, body=data, headers=dict(headers or {}),
                                               timeout=self.timeout, redirect=False))
        # What PoolManager.urlopen does, without parsing every phone's URL: the push service's part is parsed
        # once, and the pool for it comes from the manager (which keeps at most num_pools, least recent out).
        origin, rest = split_origin(url)
        target = rest.split("#", 1)[0]
        where = self._targets.get(origin)
        if where is None:
            parsed = urllib3.util.parse_url(origin)
            if len(self._targets) >= 4096:
                self._targets.clear()
            where = self._targets[origin] = (parsed.host, parsed.port, parsed.scheme)
        host, port, scheme = where
        pool = self.pool.connection_from_host(host, port=port, scheme=scheme)
        answer = pool.urlopen("POST", target if target.startswith("/") else "/" + target, body=data,
                              headers=dict(headers or {}), timeout=self.timeout, retries=False, redirect=False,
                              assert_same_host=False)
        return _Response(answer)

    def close(self):
        self.pool.clear()


class Sender:
    """Sends Messages concurrently. One per process; thread-safe."""

    def __init__(self, private_key_path, subject, workers=WORKERS, timeout=TIMEOUT):
        self.vapid = Vapid.from_file(private_key_file=private_key_path)
        self.subject = subject
        self.workers = workers
        self.timeout = timeout
        self.session = Session(workers, timeout)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push")
        self._lock = threading.Lock()
        self._signed = {}  # origin -> (expires, headers)

    def vapid_headers(self, endpoint):
        origin, _target = split_origin(endpoint)  # urlparse's scheme://netloc, without parsing every phone's URL
        scheme, _sep, authority = (origin or endpoint).partition("://")
        origin = f"{scheme.lower()}://{authority}"
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
                      whole_number(retry_after))

    def submit(self, message):
        """A Future of the message's Result (sent by one of `workers` threads)."""
        return self.pool.submit(self.send_one, message)

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
