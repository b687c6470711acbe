"""The studio's web server: the standard library's ThreadingHTTPServer, locked down as Jupyter is.

What it checks on every request, in this order (each refusal is a short JSON error):

1. **Host** must be the address served, as ``HOST:PORT`` (and ``localhost:PORT`` or
   ``127.0.0.1:PORT`` when that is loopback): a page on another name that resolves here
   (DNS rebinding) gets 403.
2. **Token**: the random token printed at start, from ``?token=`` (the first page load), an
   ``Authorization: token TOKEN`` header (scripts), or the HttpOnly, SameSite=Strict cookie the
   first page load sets. Compared in constant time. Without it: 403.
3. **Writes** (POST) from a browser must come from the page itself: a present ``Origin`` must
   be this server's, and ``Sec-Fetch-Site``, when sent, ``same-origin``. A POST with no
   ``Origin`` (only non-browser clients send none) is accepted only with the token in the
   header or URL, never on the cookie alone.
4. **Bodies** need a Content-Length no larger than :data:`MAX_BODY_BYTES`; uploads are parsed in
   memory and nothing is written to disk.

Every response carries a Content-Security-Policy of ``default-src 'self'`` (no inline
script), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
``Cache-Control: no-store``.
"""

from __future__ import annotations

import functools
import hmac
import http.server
import importlib.resources
import ipaddress
import json
import secrets
import signal
import socket
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gan_music.errors import GanMusicError
from gan_music.midi import harmony_bytes, read_melody_bytes
from gan_music.studio import api
from gan_music.studio.examples import EXAMPLES, example_melody

MAX_BODY_BYTES = 1 * 2**20  #: a melody's MIDI file or JSON is a few kilobytes
REQUEST_TIMEOUT_S = 30  #: a client that sends nothing for this long is dropped
ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/studio.css": ("studio.css", "text/css; charset=utf-8"),
    "/studio.js": ("studio.js", "text/javascript; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Refused(Exception):
    """A request answered with an HTTP error status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Studio:
    """What one running studio serves: the model, the token and the addresses it answers to."""

    model: Any
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    host: str = "127.0.0.1"
    port: int = 0
    checkpoint_name: str = "the shipped model"

    @property
    def cookie_name(self) -> str:
        """Per port, since browsers share cookies between the ports of one host."""
        return f"gan_music_studio_{self.port}"

    @property
    def url(self) -> str:
        """The address to open, token included."""
        return f"http://{_netloc(self.host, self.port)}/?token={self.token}"

    def allowed_hosts(self) -> set[str]:
        """The values of the Host header this studio answers."""
        hosts = {_netloc(self.host, self.port)}
        if is_loopback(self.host):
            hosts |= {f"localhost:{self.port}", f"127.0.0.1:{self.port}", f"[::1]:{self.port}"}
        return hosts

    def allowed_origins(self) -> set[str]:
        """The values of the Origin header of the studio's own page."""
        return {f"http://{host}" for host in self.allowed_hosts()}

    @functools.cached_property
    def version(self) -> str:
        """The installed version of binomial-gan-music (read once: a metadata look-up is slow)."""
        import gan_music

        return str(gan_music.__version__)

    def warm_up(self) -> None:
        """Make the examples and run the model once, so the first page load is as fast as any."""
        for example in EXAMPLES:
            example_melody(example.key)
        melody = example_melody(EXAMPLES[0].key)
        api.harmonise(self.model, melody, seed=0)
        _ = self.version

    def token_matches(self, candidate: str | None) -> bool:
        """Constant-time comparison with the token."""
        return candidate is not None and hmac.compare_digest(
            candidate.encode("utf-8", "replace"), self.token.encode()
        )


class StudioServer(http.server.ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its :class:`Studio`."""

    daemon_threads = True

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.address_family = socket.AF_INET6 if ":" in studio.host else socket.AF_INET
        super().__init__((studio.host, studio.port), StudioHandler)
        studio.port = self.server_address[1]


class StudioHandler(http.server.BaseHTTPRequestHandler):
    """Answers the page and its JSON calls; see the module docstring for the checks."""

    server: StudioServer
    server_version = "gan-music-studio"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = REQUEST_TIMEOUT_S
    POST_ROUTES: ClassVar[dict[str, str]] = {
        "/api/read-midi": "_read_midi",
        "/api/harmonise": "_harmonise",
        "/api/write-midi": "_write_midi",
    }

    # Entry points ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_HEAD(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def do_PUT(self) -> None:
        self._answer(self._not_allowed)

    do_DELETE = do_PATCH = do_OPTIONS = do_PUT

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request line holds the token, and the terminal is the user's."""

    # Dispatch -------------------------------------------------------------------------------

    def _answer(self, route: Callable[[str, dict[str, list[str]]], None]) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        try:
            self._check_host()
            via_token = self._check_token(query)
            if self.command == "POST":
                self._check_origin(via_token)
            route(url.path, query)
        except Refused as refusal:
            self._send_json(refusal.status, {"error": str(refusal)})
            self.close_connection = True
        except GanMusicError as error:
            self._send_json(400, {"error": str(error)})
        except Exception as error:  # noqa: BLE001  # the page gets a message, the server lives
            sys.stderr.write(f"studio: error in {self.command} {url.path}: {error!r}\n")
            self._send_json(500, {"error": f"the studio failed: {type(error).__name__}: {error}"})

    def _get(self, path: str, query: dict[str, list[str]]) -> None:
        if path in ASSETS:
            name, content_type = ASSETS[path]
            body = (importlib.resources.files("gan_music.studio") / "static" / name).read_bytes()
            cookie = None
            if path == "/" and "token" in query:
                cookie = (
                    f"{self.server.studio.cookie_name}={self.server.studio.token}; "
                    "Path=/; HttpOnly; SameSite=Strict"
                )
            self._send(200, body, content_type, cookie=cookie)
        elif path == "/api/info":
            self._send_json(200, self._info())
        elif path == "/api/examples":
            listing = [{"key": e.key, "title": e.title} for e in EXAMPLES]
            first = api.melody_to_json(example_melody(EXAMPLES[0].key), EXAMPLES[0].title)
            self._send_json(200, {"examples": listing, "first": first})  # one trip at page load
        elif path.startswith("/api/examples/"):
            key = path.removeprefix("/api/examples/")
            if key not in {e.key for e in EXAMPLES}:
                raise Refused(404, f"no example melody {key!r}")
            title = next(e.title for e in EXAMPLES if e.key == key)
            self._send_json(200, api.melody_to_json(example_melody(key), title))
        elif path in self.POST_ROUTES:
            self._not_allowed(path, query)
        else:
            raise Refused(404, f"nothing at {path}")

    def _post(self, path: str, query: dict[str, list[str]]) -> None:
        if path not in self.POST_ROUTES:
            if path in ASSETS or path in ("/api/info", "/api/examples"):
                self._not_allowed(path, query)
            raise Refused(404, f"nothing at {path}")
        body = self._read_body()
        getattr(self, self.POST_ROUTES[path])(body, query)

    def _not_allowed(self, path: str, _query: dict[str, list[str]]) -> None:
        raise Refused(405, f"{self.command} is not allowed on {path}")

    # Endpoints ------------------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        studio = self.server.studio
        return {
            "version": studio.version,
            "model": studio.checkpoint_name,
            "temperature": api.default_temperature(studio.model),
            "temperature_range": list(api.TEMPERATURE_RANGE),
            "max_steps": api.MAX_STEPS,
            "max_notes": api.MAX_NOTES,
            "max_upload_bytes": MAX_BODY_BYTES,
        }

    def _read_midi(self, body: bytes, query: dict[str, list[str]]) -> None:
        name = _display_name(query.get("name", ["the file"])[0])
        melody = read_melody_bytes(body, name)
        self._send_json(200, api.melody_to_json(melody, name))

    def _harmonise(self, body: bytes, _query: dict[str, list[str]]) -> None:
        melody, seed, temperature = api.harmony_request(_json(body))
        harmony = api.harmonise(self.server.studio.model, melody, seed, temperature)
        self._send_json(200, api.harmony_to_json(harmony, melody, seed, temperature))

    def _write_midi(self, body: bytes, query: dict[str, list[str]]) -> None:
        melody, seed, temperature = api.harmony_request(_json(body))
        harmony = api.harmonise(self.server.studio.model, melody, seed, temperature)
        data = harmony_bytes(melody, harmony.voices(1, 2, 3))
        stem = _display_name(query.get("name", ["harmony"])[0])
        filename = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:60] or "harmony"
        self._send(
            200,
            data,
            "audio/midi",
            extra={"Content-Disposition": f'attachment; filename="{filename}.mid"'},
        )

    # Checks ---------------------------------------------------------------------------------

    def _check_host(self) -> None:
        host = self.headers.get("Host")
        if host is None or host.lower() not in self.server.studio.allowed_hosts():
            raise Refused(403, f"wrong Host {host!r}: open the address the studio printed")

    def _check_token(self, query: dict[str, list[str]]) -> bool:
        """Raise unless the request carries the token; True if it came in the URL or a header."""
        studio = self.server.studio
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "token" and studio.token_matches(value.strip()):
            return True
        if studio.token_matches(query.get("token", [None])[0]):
            return True
        cookie = _cookie(self.headers.get_all("Cookie") or [], studio.cookie_name)
        if studio.token_matches(cookie):
            return False
        raise Refused(403, "no valid token: open the address with ?token= that the studio printed")

    def _check_origin(self, via_token: bool) -> None:
        studio = self.server.studio
        origin = self.headers.get("Origin")
        fetch_site = self.headers.get("Sec-Fetch-Site")
        if origin is None:
            if not via_token:
                raise Refused(403, "a write without Origin needs the token in the request")
        elif origin.lower() not in studio.allowed_origins():
            raise Refused(403, f"cross-origin write from {origin!r} refused")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            raise Refused(403, f"write from a {fetch_site} page refused")

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise Refused(411, "send the body with a Content-Length, not chunked")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            raise Refused(411, "a Content-Length header is needed")
        try:
            length = int(length_text)
        except ValueError:
            raise Refused(400, f"bad Content-Length {length_text!r}") from None
        if length < 0:
            raise Refused(400, f"bad Content-Length {length_text!r}")
        if length > MAX_BODY_BYTES:
            raise Refused(
                413,
                f"the upload is {length / 2**20:.1f} MB, more than the "
                f"{MAX_BODY_BYTES // 2**20} MB the studio takes: give a smaller file",
            )
        body = self.rfile.read(length)
        if len(body) != length:
            raise Refused(400, "the request body ended early")
        return body

    # Responses ------------------------------------------------------------------------------

    def _send_json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        cookie: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "the request is not valid JSON") from None


def _cookie(headers: list[str], name: str) -> str | None:
    for header in headers:
        for part in header.split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
    return None


def _display_name(name: str) -> str:
    """A file name fit to show in a message: no path, no control characters, not too long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if c.isprintable())[:80]
    return cleaned or "the file"


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, allow_remote: bool) -> None:
    """Refuse a host the studio should not listen on; loopback always, others on request."""
    if is_loopback(host):
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        msg = f"--host takes an IP address, got {host!r}: for example 127.0.0.1"
        raise GanMusicError(msg) from None
    if address.is_unspecified:
        msg = f"--host {host} listens everywhere: give the one address to serve on"
        raise GanMusicError(msg)
    if not allow_remote:
        msg = (
            f"--host {host} is not this machine's loopback: anyone who can reach it and has "
            "the token can use the studio; pass --allow-remote if that is what you want"
        )
        raise GanMusicError(msg)


@contextmanager
def running(studio: Studio) -> Iterator[StudioServer]:
    """Serve ``studio`` in a background thread for the duration of the block (for tests)."""
    server = StudioServer(studio)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)  #: Ctrl-C, and what service managers send


def serve(studio: Studio, *, on_ready: Callable[[str], None]) -> None:
    """Serve until Ctrl-C or SIGTERM, calling ``on_ready(url)`` once listening; returns cleanly.

    The signal handler raises nothing: it asks the server to stop from a thread of its own.
    An exception raised from a handler lands wherever the main thread happens to be, and
    when that is inside the set-up of a request (starting its thread), ``socketserver``
    catches it as a failed request and serves on. ``shutdown()`` needs a second thread
    because it waits for the loop the main thread is running.
    """
    server = StudioServer(studio)

    def stop(_signum: int, _frame: object) -> None:
        threading.Thread(target=server.shutdown, name="studio-stop", daemon=True).start()

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        on_ready(studio.url)
        server.serve_forever()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        server.server_close()
