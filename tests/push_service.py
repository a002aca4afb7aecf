"""A fake Web Push service on 127.0.0.1: it checks each request as a real one does and reads it as a phone would.

- The VAPID Authorization header (RFC 8292): `vapid t=<JWT>, k=<public key>`; the ES256 signature is
  checked against k, k must be the app's key, `aud` must be this service's origin, `exp` in the next 24 h.
- The body is decrypted with http_ece (aes128gcm, RFC 8291) with the key pair and auth secret that the
  test made for the subscription, exactly as the browser would.
- Answers can be planned per subscription (e.g. 410, or 503 then 201) and delayed (as across the internet).

Run as a script it serves until its parent goes away (for bench/push_fanout.py, in its own process).
"""
import asyncio
import base64
import json
import os
import queue
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Rejected(Exception):
    pass


def check_vapid(authorization, expected_key, origin, now=None):
    """The VAPID claims if the header is valid for this origin and key; Rejected otherwise."""
    now = now or time.time()
    if not authorization or not authorization.startswith("vapid "):
        raise Rejected("no vapid authorization")
    parts = dict(item.strip().split("=", 1) for item in authorization[len("vapid "):].split(","))
    token, key = parts.get("t", ""), parts.get("k", "")
    if key != expected_key:
        raise Rejected("k is not the app's public key")
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
    except ValueError:
        raise Rejected("not a JWT") from None
    header = json.loads(unb64url(header_b64))
    if header.get("alg") != "ES256":
        raise Rejected("alg is not ES256")
    signature = unb64url(signature_b64)
    if len(signature) != 64:
        raise Rejected("signature is not r||s")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise Rejected("bad ES256 signature") from None
    claims = json.loads(unb64url(claims_b64))
    if claims.get("aud") != origin:
        raise Rejected(f"aud {claims.get('aud')!r} is not {origin!r}")
    if not now < int(claims.get("exp", 0)) <= now + 24 * 3600:
        raise Rejected("exp not within 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise Rejected("sub is not a mailto: or https: contact")
    return claims


class Device:
    """A phone's side of a subscription: its key pair and auth secret."""

    def __init__(self, name):
        self.name = name
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def keys(self):
        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                            serialization.PublicFormat.UncompressedPoint)
        return {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def decrypt(self, body):
        return http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm")


class FakePushService:
    def __init__(self, vapid_public_key, delay=0.0, check=True, server="threads"):
        self.vapid_public_key = vapid_public_key
        self.delay = delay
        # check=False (bench/fanout_cluster.py): count each message without checking VAPID or decrypting, so
        # that the service keeps up with several consumers on a small machine.
        self.check = check
        self.devices = {}
        self.plans = {}  # device name -> list of statuses still to answer (then 201)
        self.received = []  # {"device", "payload", "headers"} for each accepted message
        self.rejected = []  # (device, reason)
        self.lock = threading.Lock()
        self.reached = set()  # names of devices that had at least one accepted message
        if server == "asyncio":
            self.server = EventLoopServer(self)
            self.origin = self.server.origin
            self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
            return
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = service.handle(self.path, dict(self.headers), body)
                if service.delay:
                    time.sleep(service.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                if status == 201:
                    self.send_header("Location", f"{service.origin}/message/{len(service.received)}")
                self.end_headers()

        class Server(ThreadingHTTPServer):
            # A class attribute: listen() runs in the constructor, so setting it on the instance came too late
            # and a burst of new connections (two consumers' push threads) overflowed the default backlog of 5.
            request_queue_size = 1024
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A sender killed mid-request (test_push_kill.py) resets its connections: expected, not noise.
                if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        # serve_forever looks for shutdown() every poll_interval seconds (0.5 by default): stop() would
        # wait that long in every test that uses the service.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01},
                                       daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def subscribe(self, name, plan=()):
        """A new device: the subscription JSON a browser would hand to the app."""
        device = self.devices[name] = Device(name)
        self.plans[name] = list(plan)
        return {"endpoint": f"{self.origin}/push/{name}", "keys": device.keys()}

    def handle(self, path, headers, body):
        name = path.rsplit("/", 1)[-1]
        device = self.devices.get(name)
        if device is None or not path.startswith("/push/"):
            return 404
        with self.lock:
            plan = self.plans.get(name)
            if plan:
                return plan.pop(0)
        headers = {k.lower(): v for k, v in headers.items()}
        if not self.check:
            with self.lock:
                self.received.append({"device": name, "payload": None, "headers": headers, "size": len(body)})
                self.reached.add(name)
            return 201
        try:
            check_vapid(headers.get("authorization"), self.vapid_public_key, self.origin)
            if headers.get("content-encoding") != "aes128gcm":
                raise Rejected("content-encoding is not aes128gcm")
            if int(headers.get("ttl", "0")) <= 0:
                raise Rejected("TTL must be set")
            payload = json.loads(device.decrypt(body))
        except (Rejected, ValueError) as exc:
            with self.lock:
                self.rejected.append((name, str(exc)))
            return 403 if isinstance(exc, Rejected) else 400
        with self.lock:
            self.received.append({"device": name, "payload": payload, "headers": headers, "size": len(body)})
            self.reached.add(name)
        return 201

    def for_device(self, name):
        with self.lock:
            return [m for m in self.received if m["device"] == name]


class EventLoopServer:
    """The service's HTTP/1.1 side on one asyncio loop (keep-alive, Content-Length bodies, as urllib3 sends them),
    for the count-only bench mode.

    bench/fanout_cluster.py measures the app's consumers on the same small machine as this stand-in for a
    push service across the internet. http.server costs about 0.2 ms of CPU a message (a thread per
    connection, headers parsed by the email package): a quarter of what a consumer spends, taken from the cores
    the consumers share. One loop, with `delay` as a timer rather than a sleeping thread, costs a fraction.
    Same answers, same Location, same counting (FakePushService.handle).
    """

    def __init__(self, service):
        self.service = service
        self.loop = asyncio.new_event_loop()
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.origin = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.stopped = threading.Event()

    async def client(self, reader, writer):
        service = self.service
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                _method, path, _version = head[0].split(" ", 2)
                headers = dict(line.split(":", 1) for line in head[1:] if line)
                headers = {name.strip(): value.strip() for name, value in headers.items()}
                length = next((int(v) for k, v in headers.items() if k.lower() == "content-length"), 0)
                body = await reader.readexactly(length)
                status = service.handle(path, headers, body)
                if service.delay:
                    await asyncio.sleep(service.delay)
                location = f"Location: {service.origin}/message/{len(service.received)}\r\n" if status == 201 else ""
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n{location}\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.CancelledError):
            pass  # the sender closed or reset the connection (a killed consumer), sent something else, or we stop
        finally:
            writer.close()

    async def _serve(self):
        server = await asyncio.start_server(self.client, sock=self.socket)
        while not self.stopped.is_set():
            await asyncio.sleep(0.01)
        server.close()
        # Connections the sender keeps alive end here, inside the loop, rather than when it is closed.
        clients = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        await server.wait_closed()

    def serve_forever(self):
        self.loop.run_until_complete(self._serve())

    def shutdown(self):
        self.stopped.set()

    def server_close(self):
        pass  # the socket closes with the asyncio server


def serve_for_bench(vapid_public_key, count, delay, out, check=True):
    """Bench mode: make `count` devices, print their subscriptions as JSON lines, serve until stdin closes.
    check=False: count messages without checking or decrypting them, served by one asyncio loop
    (EventLoopServer) so that the service keeps up with several consumers on a small machine."""
    service = FakePushService(vapid_public_key, delay=delay, check=check,
                              server="threads" if check else "asyncio").start()
    subscriptions = [service.subscribe(f"d{i}") for i in range(count)]
    out.write(json.dumps({"origin": service.origin, "subscriptions": subscriptions}) + "\n")
    out.flush()
    commands = queue.Queue()
    def read_commands():
        for line in sys.stdin:
            commands.put(line)
        commands.put("stop")  # the parent went away

    threading.Thread(target=read_commands, daemon=True).start()
    while True:
        line = commands.get()
        if line.strip() == "count":
            with service.lock:
                out.write(json.dumps({"received": len(service.received), "devices": len(service.reached),
                                      "rejected": len(service.rejected)}) + "\n")
            out.flush()
        elif line.strip() == "reset":
            with service.lock:
                service.received.clear()
                service.rejected.clear()
                service.reached.clear()
            out.write("{}\n")
            out.flush()
        elif line.strip() in ("", "stop"):
            service.stop()
            return


if __name__ == "__main__":
    serve_for_bench(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.stdout,
                    check=(sys.argv[4:5] != ["count-only"]))
