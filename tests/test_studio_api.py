"""``gan-music studio``'s HTTP API: every endpoint, every refusal, and the command's life cycle.

The server runs in this process on 127.0.0.1, port 0 (a fixture that always stops it), or as
the real command in a subprocess that each test stops. Requests go through http.client with
the Host header set by hand, so the tests can send what a hostile page would.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mido")

from gan_music import cli
from gan_music.errors import GanMusicError
from gan_music.generate import load_model
from gan_music.midi import read_melody, read_score, write_score
from gan_music.pianoroll import Score
from gan_music.studio import api
from gan_music.studio.examples import EXAMPLES
from gan_music.studio.server import (
    MAX_BODY_BYTES,
    STOP_SIGNALS,
    Studio,
    StudioServer,
    check_host,
    running,
    serve,
)

URL_LINE = re.compile(r"^studio: http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{20,})$")


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def studio() -> Iterator[Studio]:
    served = Studio(model=load_model())
    with running(served):
        yield served


def send(
    studio: Studio,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    host: str | None = "default",
    auth: str = "header",
    headers: dict[str, str] | None = None,
    content_length: bool = True,
) -> Reply:
    """One request, with exactly the headers given (Host, token, Origin) and nothing added."""
    connection = http.client.HTTPConnection("127.0.0.1", studio.port, timeout=60)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host == "default":
            host = f"127.0.0.1:{studio.port}"
        if host is not None:
            connection.putheader("Host", host)
        if auth == "header":
            connection.putheader("Authorization", f"token {studio.token}")
        elif auth == "cookie":
            connection.putheader("Cookie", f"{studio.cookie_name}={studio.token}")
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None and content_length:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def post_json(studio: Studio, path: str, value: object, **options: Any) -> Reply:
    headers = {"Content-Type": "application/json", **options.pop("headers", {})}
    return send(studio, "POST", path, json.dumps(value).encode(), headers=headers, **options)


def example(studio: Studio, key: str = "ode-to-joy") -> dict[str, Any]:
    reply = send(studio, "GET", f"/api/examples/{key}")
    assert reply.status == 200, reply.body
    melody: dict[str, Any] = reply.json()
    return melody


@pytest.fixture
def tune_file(tmp_path: Path) -> Path:
    notes = [(0, 4 * i, 4, pitch) for i, pitch in enumerate([67, 67, 74, 74, 76, 76, 74, 72, 72])]
    path = tmp_path / "tune.mid"
    write_score(path, Score.from_notes(40, notes, n_voices=1), first_downbeat=4)
    return path


# The page and its assets ----------------------------------------------------------------------


def test_first_load_with_the_token_sets_a_strict_http_only_cookie(studio: Studio) -> None:
    reply = send(studio, "GET", f"/?token={studio.token}", auth="none")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith(f"gan_music_studio_{studio.port}={studio.token};")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert b"<title>gan-music studio</title>" in reply.body


def test_every_response_carries_the_security_headers(studio: Studio) -> None:
    for path, auth in [("/", "cookie"), ("/studio.js", "cookie"), ("/api/info", "header")]:
        reply = send(studio, "GET", path, auth=auth)
        assert reply.status == 200, path
        assert reply.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Cache-Control"] == "no-store"
    refused = send(studio, "GET", "/api/info", auth="none")
    assert refused.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_has_no_inline_script_and_loads_nothing_from_elsewhere(studio: Studio) -> None:
    html = send(studio, "GET", "/", auth="cookie").body.decode()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.DOTALL)
    assert scripts == [""]  # one script, from a file
    assert re.search(r"\son[a-z]+\s*=", html) is None  # no inline event handlers
    assert "style=" not in html
    for path in ("/", "/studio.css", "/studio.js"):
        text = send(studio, "GET", path, auth="cookie").body.decode()
        assert re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text) is None, path


def test_assets_are_served_with_their_types(studio: Studio) -> None:
    css = send(studio, "GET", "/studio.css", auth="cookie")
    js = send(studio, "GET", "/studio.js", auth="cookie")
    assert css.headers["Content-Type"].startswith("text/css")
    assert js.headers["Content-Type"].startswith("text/javascript")
    assert b"requestMIDIAccess" in js.body


# Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "auth"),
    [
        ("/", "none"),
        ("/api/info", "none"),
        ("/studio.js", "none"),
        ("/?token=wrong-token", "none"),
        ("/api/info?token=", "none"),
    ],
)
def test_no_or_a_wrong_token_is_refused(studio: Studio, path: str, auth: str) -> None:
    reply = send(studio, "GET", path, auth=auth)
    assert reply.status == 403
    assert "token" in reply.json()["error"]
    assert "Set-Cookie" not in reply.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "token wrong"},
        {"Cookie": "gan_music_studio_1=x"},
        {"Authorization": "Bearer whatever"},
    ],
)
def test_a_wrong_token_in_a_header_or_cookie_is_refused(
    studio: Studio, headers: dict[str, str]
) -> None:
    assert send(studio, "GET", "/api/info", auth="none", headers=headers).status == 403


def test_the_cookie_of_another_port_is_refused(studio: Studio) -> None:
    other = {"Cookie": f"gan_music_studio_{studio.port + 1}={studio.token}"}
    assert send(studio, "GET", "/api/info", auth="none", headers=other).status == 403


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:{port}", "127.0.0.1:1", "127.0.0.1", "10.0.0.1:{port}"]
)
def test_a_wrong_host_header_is_refused_even_with_the_token(studio: Studio, host: str) -> None:
    reply = send(studio, "GET", f"/?token={studio.token}", host=host.format(port=studio.port))
    assert reply.status == 403
    assert "Host" in reply.json()["error"]
    assert "Set-Cookie" not in reply.headers


def test_a_missing_host_header_is_refused(studio: Studio) -> None:
    assert send(studio, "GET", "/api/info", host=None).status == 403


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "LOCALHOST:{port}"])
def test_the_loopback_names_are_accepted(studio: Studio, host: str) -> None:
    assert send(studio, "GET", "/api/info", host=host.format(port=studio.port)).status == 200


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://127.0.0.1:1", "null", "https://127.0.0.1:{port}"]
)
def test_a_write_from_a_foreign_origin_is_refused(studio: Studio, origin: str) -> None:
    request = {"melody": example(studio), "seed": 1}
    for auth in ("cookie", "header"):
        reply = post_json(
            studio,
            "/api/harmonise",
            request,
            auth=auth,
            headers={"Origin": origin.format(port=studio.port)},
        )
        assert reply.status == 403, auth
        assert "origin" in reply.json()["error"].lower()


def test_a_write_without_origin_needs_the_token_not_just_the_cookie(studio: Studio) -> None:
    request = {"melody": example(studio), "seed": 1}
    assert post_json(studio, "/api/harmonise", request, auth="cookie").status == 403
    assert post_json(studio, "/api/harmonise", request, auth="header").status == 200
    own = {"Origin": f"http://127.0.0.1:{studio.port}", "Sec-Fetch-Site": "same-origin"}
    assert post_json(studio, "/api/harmonise", request, auth="cookie", headers=own).status == 200
    local = {"Origin": f"http://localhost:{studio.port}"}
    assert post_json(studio, "/api/harmonise", request, auth="cookie", headers=local).status == 200


def test_a_write_from_a_cross_site_page_is_refused(studio: Studio) -> None:
    request = {"melody": example(studio), "seed": 1}
    headers = {"Origin": f"http://127.0.0.1:{studio.port}", "Sec-Fetch-Site": "cross-site"}
    reply = post_json(studio, "/api/harmonise", request, auth="cookie", headers=headers)
    assert reply.status == 403


def test_an_oversized_body_is_refused_before_it_is_read(studio: Studio) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", studio.port, timeout=60)
    try:
        connection.putrequest("POST", "/api/read-midi", skip_host=True)
        connection.putheader("Host", f"127.0.0.1:{studio.port}")
        connection.putheader("Authorization", f"token {studio.token}")
        connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        connection.endheaders()  # the body is never sent: the answer comes first
        response = connection.getresponse()
        assert response.status == 413
        assert "MB" in json.loads(response.read())["error"]
    finally:
        connection.close()


def test_a_body_without_content_length_is_refused(studio: Studio) -> None:
    reply = send(studio, "POST", "/api/read-midi", b"MThd", content_length=False)
    assert reply.status == 411
    chunked = send(
        studio,
        "POST",
        "/api/read-midi",
        b"4\r\nMThd\r\n0\r\n\r\n",
        content_length=False,
        headers={"Transfer-Encoding": "chunked"},
    )
    assert chunked.status == 411


def test_a_bad_content_length_is_refused(studio: Studio) -> None:
    for value in ("-1", "ten"):
        reply = send(
            studio, "POST", "/api/read-midi", b"", content_length=False,
            headers={"Content-Length": value},
        )  # fmt: skip
        assert reply.status == 400


def test_unknown_paths_and_methods(studio: Studio) -> None:
    assert send(studio, "GET", "/etc/passwd").status == 404
    assert send(studio, "GET", "/../gan_music/data/model.npz").status == 404
    assert send(studio, "GET", "/api/examples/nope").status == 404
    assert send(studio, "GET", "/api/harmonise").status == 405
    assert send(studio, "PUT", "/api/harmonise", b"{}").status == 405
    assert send(studio, "DELETE", "/").status == 405
    assert send(studio, "POST", "/api/elsewhere", b"{}").status == 404


# Reading MIDI ---------------------------------------------------------------------------------


def test_read_midi_gives_the_melody_read_melody_gives(studio: Studio, tune_file: Path) -> None:
    reply = send(studio, "POST", "/api/read-midi?name=tune.mid", tune_file.read_bytes())
    assert reply.status == 200, reply.body
    page = reply.json()
    expected = read_melody(tune_file)
    assert [tuple(note) for note in page["notes"]] == expected.notes
    assert page["ticks_per_beat"] == expected.ticks_per_beat
    assert page["end_tick"] == expected.end_tick
    assert (page["steps_per_bar"], page["first_downbeat"]) == (16, 4)
    assert page["name"] == "tune.mid"


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "not a MIDI file"),
        (b"these are not MIDI bytes", "not a MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01", "damaged or truncated"),
    ],
)
def test_bad_midi_is_refused_in_plain_words(studio: Studio, data: bytes, needle: str) -> None:
    reply = send(studio, "POST", "/api/read-midi?name=C:\\music\\song.mid", data)
    assert reply.status == 400
    error = reply.json()["error"]
    assert needle in error
    assert error.startswith("song.mid ")  # the name without its folder


def test_a_midi_file_without_notes_is_refused(studio: Studio, tmp_path: Path) -> None:
    import mido

    path = tmp_path / "empty.mid"
    mido.MidiFile(tracks=[mido.MidiTrack()]).save(path)
    reply = send(studio, "POST", "/api/read-midi?name=empty.mid", path.read_bytes())
    assert reply.status == 400
    assert "has no notes" in reply.json()["error"]


def test_a_midi_file_too_long_for_the_studio_is_refused(studio: Studio, tmp_path: Path) -> None:
    steps = api.MAX_STEPS + 16
    path = tmp_path / "long.mid"
    write_score(path, Score.from_notes(steps, [(0, s, 1, 72) for s in range(steps)], n_voices=1))
    reply = send(studio, "POST", "/api/read-midi?name=long.mid", path.read_bytes())
    assert reply.status == 400
    assert f"more than the {api.MAX_STEPS}" in reply.json()["error"]


# Examples and harmonising ---------------------------------------------------------------------


def test_info_says_what_the_page_may_offer(studio: Studio) -> None:
    info = send(studio, "GET", "/api/info").json()
    assert info["max_steps"] == api.MAX_STEPS
    assert info["max_upload_bytes"] == MAX_BODY_BYTES
    assert info["temperature"] == api.default_temperature(studio.model)
    assert info["model"] == "the shipped model"


def test_examples_are_listed_and_each_harmonises(studio: Studio) -> None:
    reply = send(studio, "GET", "/api/examples").json()
    listing = reply["examples"]
    assert [item["key"] for item in listing] == [e.key for e in EXAMPLES]
    assert reply["first"] == example(studio, EXAMPLES[0].key)  # the page's first melody
    metres = set()
    for item in listing:
        melody = example(studio, item["key"])
        metres.add(melody["steps_per_bar"])
        reply = post_json(studio, "/api/harmonise", {"melody": melody, "seed": 5})
        assert reply.status == 200, reply.body
        harmony = reply.json()
        assert [voice["name"] for voice in harmony["voices"]] == [
            "soprano", "alto", "tenor", "bass",
        ]  # fmt: skip
        assert all(voice["notes"] for voice in harmony["voices"])
        soprano = [n for n in harmony["voices"][0]["notes"] if n[2] >= 0]
        assert [pitch for _, _, pitch in soprano] == [note[2] for note in melody["notes"]]
        assert harmony["steps_per_bar"] == melody["steps_per_bar"]
        assert harmony["first_downbeat"] == melody["first_downbeat"]
    assert metres == {16, 12}


def test_the_same_seed_gives_the_same_voices_another_seed_others(studio: Studio) -> None:
    melody = example(studio)

    def voices(seed: int, temperature: float | None = None) -> Any:
        request = {"melody": melody, "seed": seed, "temperature": temperature}
        reply = post_json(studio, "/api/harmonise", request)
        assert reply.status == 200, reply.body
        return reply.json()["voices"]

    assert voices(1) == voices(1)
    assert voices(1) != voices(2)
    assert voices(1, 1.5) == voices(1, 1.5)
    assert voices(1, 1.5) != voices(1)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"seed": -1}, "seed must be a whole number"),
        ({"seed": "1"}, "seed must be a whole number"),
        ({"seed": True}, "seed must be a whole number"),
        ({"temperature": 99}, "temperature must be a number"),
        ({"melody": []}, "melody must be a JSON object"),
        ({"melody": {"ticks_per_beat": 0, "notes": [], "meta": []}}, "ticks_per_beat"),
        ({"notes": []}, "the melody has no notes"),
        ({"notes": [[0, 0, 60, 80]]}, "end must be a whole number"),
        ({"notes": [[0, 480, 128, 80]]}, "pitch must be a whole number"),
        ({"notes": [[0, 480, 60]]}, "must be [start tick, end tick, pitch, velocity]"),
        ({"notes": [[0, 480, 60, 80]] * (api.MAX_NOTES + 1)}, "more than the"),
        ({"meta": [[0, "text", {"text": "hi"}]]}, "must be [tick, one of"),
        ({"meta": [[0, "set_tempo", {"tempo": 1, "x": 2}]]}, "needs exactly the attributes"),
        ({"meta": [[0, "key_signature", {"key": "H#"}]]}, "not a valid key_signature"),
    ],
)
def test_bad_requests_are_refused_in_plain_words(
    studio: Studio, change: dict[str, Any], needle: str
) -> None:
    request: dict[str, Any] = {"melody": example(studio), "seed": 1}
    for key in ("notes", "meta"):
        if key in change:
            request["melody"][key] = change.pop(key)
    request.update(change)
    reply = post_json(studio, "/api/harmonise", request)
    assert reply.status == 400
    assert needle in reply.json()["error"]


def test_a_melody_too_long_is_refused(studio: Studio) -> None:
    melody = example(studio)
    step = melody["ticks_per_beat"] // 4
    melody["notes"] = [[s * step, (s + 1) * step, 72, 80] for s in range(api.MAX_STEPS + 1)]
    reply = post_json(studio, "/api/harmonise", {"melody": melody, "seed": 1})
    assert reply.status == 400
    assert f"more than the {api.MAX_STEPS}" in reply.json()["error"]
    huge = example(studio)
    huge["notes"] = [[0, 2**31, 72, 80]]
    assert (
        "sixteenth notes"
        in post_json(studio, "/api/harmonise", {"melody": huge, "seed": 1}).json()["error"]
    )


def test_invalid_json_is_refused(studio: Studio) -> None:
    reply = send(studio, "POST", "/api/harmonise", b"{not json", headers={"Content-Type": "x"})
    assert reply.status == 400
    assert "not valid JSON" in reply.json()["error"]


# Writing MIDI: the same file as gan-music generate ---------------------------------------------


def generate_with_the_cli(tmp_path: Path, seed: int, melody: Path | None = None) -> bytes:
    out = tmp_path / f"generated-{seed}.mid"
    argv = ["generate", "--out", str(out), "--seed", str(seed)]
    if melody is not None:
        argv += ["--melody", str(melody)]
    assert cli.main(argv) == 0
    return out.read_bytes()


def test_the_download_is_the_file_gan_music_generate_writes(
    studio: Studio, tune_file: Path, tmp_path: Path
) -> None:
    melody = send(studio, "POST", "/api/read-midi?name=tune.mid", tune_file.read_bytes()).json()
    reply = post_json(studio, "/api/write-midi?name=my%20tune", {"melody": melody, "seed": 7})
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "audio/midi"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="my-tune.mid"'
    assert reply.body == generate_with_the_cli(tmp_path, 7, tune_file)
    written = tmp_path / "download.mid"
    written.write_bytes(reply.body)
    assert read_score(written).n_voices == 4


def test_the_bach_example_downloads_as_gan_music_generate_writes_it(
    studio: Studio, tmp_path: Path
) -> None:
    request = {"melody": example(studio, "bach"), "seed": 11}
    reply = post_json(studio, "/api/write-midi", request)
    assert reply.status == 200
    assert reply.body == generate_with_the_cli(tmp_path, 11)


def test_the_download_follows_the_seed_and_temperature(studio: Studio) -> None:
    melody = example(studio)
    first = post_json(studio, "/api/write-midi", {"melody": melody, "seed": 1}).body
    assert post_json(studio, "/api/write-midi", {"melody": melody, "seed": 1}).body == first
    assert post_json(studio, "/api/write-midi", {"melody": melody, "seed": 2}).body != first
    hot = {"melody": melody, "seed": 1, "temperature": 1.5}
    assert post_json(studio, "/api/write-midi", hot).body != first


def test_an_edited_melody_is_written_as_sent(studio: Studio, tmp_path: Path) -> None:
    melody = example(studio)
    melody["notes"] = melody["notes"][:5]
    melody["notes"][0][2] += 2
    reply = post_json(studio, "/api/write-midi", {"melody": melody, "seed": 3})
    path = tmp_path / "edited.mid"
    path.write_bytes(reply.body)
    assert [list(note) for note in read_melody(path).notes] == melody["notes"]


# The command ------------------------------------------------------------------------------------


def test_check_host() -> None:
    check_host("127.0.0.1", allow_remote=False)
    check_host("::1", allow_remote=False)
    check_host("192.0.2.7", allow_remote=True)
    for host, remote, needle in [
        ("192.0.2.7", False, "--allow-remote"),
        ("0.0.0.0", True, "listens everywhere"),
        ("::", True, "listens everywhere"),
        ("example.org", True, "takes an IP address"),
    ]:
        with pytest.raises(GanMusicError, match=needle):
            check_host(host, allow_remote=remote)


def start_command(*args: str, cwd: Path) -> tuple[subprocess.Popen[str], str, int, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gan_music", "studio", "--no-browser", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, "TMPDIR": str(cwd / "tmp")},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = URL_LINE.match(line.rstrip("\n"))
    if match is None:
        process.kill()
        _, err = process.communicate(timeout=60)
        pytest.fail(f"unexpected first line {line!r}; stderr: {err}")
    return process, line, int(match.group(1)), match.group(2)


def stop(process: subprocess.Popen[str], stop_signal: int) -> tuple[str, str]:
    """Send ``stop_signal``; a command still running a minute later is killed and fails the test."""
    process.send_signal(stop_signal)
    try:
        return process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate(timeout=60)
        pytest.fail(f"still running 60 s after signal {stop_signal}; stderr:\n{err}")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("stop_signal", STOP_SIGNALS)
def test_a_stop_signal_while_a_request_starts_still_stops_the_server(
    monkeypatch: pytest.MonkeyPatch, stop_signal: int
) -> None:
    """The signal lands while the serving thread starts a request's thread, as it once did in CI.

    Served in this process's main thread, where signal handlers run. If the signal is lost,
    a watchdog stops the server after 30 s and the test fails instead of hanging.
    """
    servers: list[StudioServer] = []
    start_request = StudioServer.process_request

    def signal_then_start(server: StudioServer, request: Any, address: Any) -> None:
        servers.append(server)
        signal.raise_signal(stop_signal)  # its handler runs before the next line
        start_request(server, request, address)

    monkeypatch.setattr(StudioServer, "process_request", signal_then_start)
    served = Studio(model=None)
    returned, watchdog_fired = threading.Event(), threading.Event()

    def request_then_watch() -> None:
        with contextlib.suppress(OSError, http.client.HTTPException):
            send(served, "GET", "/api/info")
        if not returned.wait(30) and servers:
            watchdog_fired.set()
            servers[0].shutdown()

    watcher = threading.Thread(target=request_then_watch, daemon=True)
    handlers = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    serve(served, on_ready=lambda _url: watcher.start())
    returned.set()
    watcher.join(timeout=60)
    assert servers, "no request reached the server"
    assert not watchdog_fired.is_set(), f"signal {stop_signal} did not stop the server"
    assert {number: signal.getsignal(number) for number in STOP_SIGNALS} == handlers


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("stop_signal", STOP_SIGNALS)
def test_the_command_prints_one_line_serves_and_stops_cleanly(
    tmp_path: Path, tune_file: Path, stop_signal: int
) -> None:
    work = tmp_path / "work"
    (work / "tmp").mkdir(parents=True)
    process, _, port, token = start_command(cwd=work)
    try:
        served = Studio(model=None, token=token, port=port)
        assert send(served, "GET", "/api/info").status == 200
        melody = send(served, "POST", "/api/read-midi?name=t.mid", tune_file.read_bytes()).json()
        assert post_json(served, "/api/write-midi", {"melody": melody, "seed": 1}).status == 200
        assert send(served, "GET", "/api/info", auth="none").status == 403
    finally:
        out, err = stop(process, stop_signal)
    assert process.returncode == 0, err
    assert out == ""  # nothing after the one line
    assert "Traceback" not in err
    assert sorted(p.name for p in work.rglob("*")) == ["tmp"]  # nothing written to disk


def test_the_command_refuses_a_remote_host_without_the_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["studio", "--no-browser", "--host", "192.0.2.7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--allow-remote" in err[0]


def test_the_command_has_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gan_music", "studio", "--help"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0
    assert "--no-browser" in result.stdout
    assert "--allow-remote" in result.stdout
