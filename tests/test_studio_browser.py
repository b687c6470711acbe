"""The studio's page in a real browser: Debian's Chromium, headless, driven by Playwright.

Each test records, edits, harmonises, plays or downloads as a person would, and fails on any
console error or uncaught page error. Skipped, saying how to get the browser, where
/usr/bin/chromium or the playwright package is missing.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chromium import CHROMIUM, MISSING, launch

if not CHROMIUM.exists():
    pytest.skip(MISSING, allow_module_level=True)
pytest.importorskip("mido")
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright is missing: pip install playwright (it is in the test dependency group)",
)

from gan_music.generate import load_model
from gan_music.midi import read_score, write_score
from gan_music.pianoroll import Score
from gan_music.studio.examples import example_melody
from gan_music.studio.server import Studio, running

TIMEOUT_MS = 60_000  #: generous: the machine may be shared; nothing here is timed

Page = Any  # playwright.sync_api.Page


@pytest.fixture(scope="module")
def studio() -> Iterator[Studio]:
    served = Studio(model=load_model())
    with running(served):
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = launch(playwright)
        try:
            yield launched
        finally:
            launched.close()


class Problems:
    """Console errors and page errors seen by one page; some may be expected by a test."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.expected: list[str] = []

    def expect(self, fragment: str) -> None:
        self.expected.append(fragment)

    def unexpected(self) -> list[str]:
        return [p for p in self.seen if not any(fragment in p for fragment in self.expected)]


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def page_factory(browser: Any, studio: Studio, problems: Problems) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_page(init_script: str | None = None, **viewport: int) -> Page:
        context = browser.new_context(
            viewport={"width": 1280, "height": 800, **viewport}, accept_downloads=True
        )
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on(
            "console",
            lambda m: (
                problems.seen.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.seen.append(f"page error: {error}"))
        page.goto(studio.url)
        page.wait_for_selector("body[data-ready=true]")
        assert "token" not in page.url  # the address bar no longer shows it
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert problems.unexpected() == []


def melody_notes(page: Page) -> list[list[int]]:
    notes: list[list[int]] = json.loads(page.get_attribute("#melody-roll", "data-notes"))
    return notes


def note_centre(page: Page, index: int) -> tuple[float, float]:
    """Where note ``index`` of the melody roll is on the screen."""
    geometry = json.loads(page.get_attribute("#melody-roll", "data-geometry"))
    start, end, pitch = melody_notes(page)[index]
    box = page.locator("#melody-roll").bounding_box()
    x = box["x"] + (start + end) / 2 * geometry["pxPerStep"]
    y = box["y"] + (geometry["high"] - pitch + 0.5) * geometry["rowHeight"]
    return x, y


def record(page: Page, play: Callable[[], None], *, count_in: bool = True) -> None:
    page.fill("#record-tempo", "200")
    page.select_option("#metre", "3/4")
    if not count_in:
        page.uncheck("#count-in")
    page.click("#record")
    page.wait_for_selector("#status:has-text('then press Stop recording')")
    play()
    page.click("#record-stop")


def wait_until(page: Page, expression: str) -> None:
    """Poll ``expression`` in the page (wait_for_function would need eval, which the CSP forbids)."""
    for _ in range(TIMEOUT_MS // 100):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    pytest.fail(f"never true in the page: {expression}")


def load_example(page: Page, key: str) -> None:
    page.select_option("#example", key)
    page.click("#load-example")
    title = page.locator("#example option:checked").inner_text()
    page.wait_for_selector(f"#melody-name:has-text('{title[:20]}')")


def harmonise(page: Page) -> None:
    count = int(page.get_attribute("body", "data-harmony-count") or 0)
    page.click("#harmonise")
    page.wait_for_selector(f"body[data-harmony-count='{count + 1}']")


def test_record_from_the_on_screen_piano_and_the_computer_keyboard(
    page_factory: Callable[..., Page],
) -> None:
    page = page_factory()

    def play() -> None:
        key = page.locator('#piano [data-pitch="60"]')  # C4
        key.hover()
        page.mouse.down()
        page.wait_for_timeout(400)
        page.mouse.up()
        page.wait_for_timeout(150)
        page.keyboard.down("d")  # E4 with the keyboard at C4
        page.wait_for_timeout(400)
        page.keyboard.up("d")
        page.keyboard.press("x")  # an octave up
        page.keyboard.down("g")  # G5
        page.wait_for_timeout(300)
        page.keyboard.up("g")

    record(page, play)
    notes = melody_notes(page)
    assert [pitch for _, _, pitch in notes] == [60, 64, 79]
    assert all(end > start for start, end, _ in notes)
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(notes))  # one at a time
    assert page.inner_text("#melody-name").startswith("— Recording at 200 bpm")
    harmonise(page)
    voices = json.loads(page.get_attribute("#harmony-roll", "data-voices"))
    assert voices[0] == 3
    assert all(count > 0 for count in voices)


def test_edit_a_note_then_undo_and_redo(page_factory: Callable[..., Page]) -> None:
    page = page_factory()
    load_example(page, "ode-to-joy")
    original = melody_notes(page)
    page.mouse.click(*note_centre(page, 2))
    page.keyboard.press("ArrowUp")
    edited = melody_notes(page)
    assert edited[2][2] == original[2][2] + 1
    assert edited[:2] == original[:2]
    page.keyboard.press("Shift+ArrowLeft")
    assert melody_notes(page)[2][1] == original[2][1] - 1
    page.click("#delete-note")
    assert len(melody_notes(page)) == len(original) - 1
    page.click("#undo")
    page.click("#undo")
    page.click("#undo")
    assert melody_notes(page) == original
    page.click("#redo")
    assert melody_notes(page) == edited
    page.keyboard.press("Control+z")
    assert melody_notes(page) == original

    # Drag the last note two sixteenths later, then its right end one sixteenth further.
    geometry = json.loads(page.get_attribute("#melody-roll", "data-geometry"))
    x, y = note_centre(page, len(original) - 1)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + geometry["pxPerStep"] * 2, y, steps=4)
    page.mouse.up()
    moved = melody_notes(page)[-1]
    assert moved[0] == original[-1][0] + 2
    assert moved[2] == original[-1][2]
    geometry = json.loads(page.get_attribute("#melody-roll", "data-geometry"))  # may have changed
    box = page.locator("#melody-roll").bounding_box()
    right = box["x"] + moved[1] * geometry["pxPerStep"] - 2
    page.mouse.move(right, y)
    page.mouse.down()
    page.mouse.move(right + geometry["pxPerStep"], y, steps=4)
    page.mouse.up()
    assert melody_notes(page)[-1][:2] == [moved[0], moved[1] + 1]

    # Double-click an empty place after the last note to add a quarter note there.
    end = melody_notes(page)[-1][1]
    page.mouse.dblclick(box["x"] + (end + 6.5) * geometry["pxPerStep"], box["y"] + 3)
    added = melody_notes(page)
    assert len(added) == len(original) + 1
    assert added[-1][:2] == [end + 6, end + 10]


def test_harmonise_play_and_download(page_factory: Callable[..., Page], tmp_path: Path) -> None:
    page = page_factory()
    load_example(page, "amazing-grace")
    page.fill("#seed", "4")
    harmonise(page)
    first = page.get_attribute("#harmony-roll", "data-voices")
    assert all(count > 0 for count in json.loads(first))

    page.click("#play")
    page.wait_for_selector("body[data-audio-state=running]")
    wait_until(page, "Number(document.body.dataset.cursorStep || 0) > 1")
    page.click("#solo-3")
    page.click("#mute-1")
    page.select_option("#instrument", "strings")
    page.click("#stop")
    assert page.get_attribute("body", "data-playing") == "false"

    with page.expect_download() as midi_download:
        page.click("#download-midi")
    midi_path = tmp_path / "download.mid"
    midi_download.value.save_as(midi_path)
    assert midi_download.value.suggested_filename == "Amazing-Grace-3-4-seed4.mid"
    score = read_score(midi_path)
    assert score.n_voices == 4
    # the soprano voice is the melody, note for note (another voice may cross above it, so
    # the file's top line need not be)
    melody = example_melody("amazing-grace").to_score()
    steps = melody.n_steps
    assert score.n_steps >= steps
    assert score.pitch[:steps, 0].tolist() == melody.pitch[:, 0].tolist()
    assert score.onset[:steps, 0].tolist() == melody.onset[:, 0].tolist()

    with page.expect_download() as picture_download:
        page.click("#download-png")
    picture = tmp_path / "roll.png"
    picture_download.value.save_as(picture)
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    page.click("#another")
    page.wait_for_selector("body[data-harmony-count='2']")
    assert page.input_value("#seed") != "4"


def test_open_a_midi_file(page_factory: Callable[..., Page], tmp_path: Path) -> None:
    page = page_factory()
    path = tmp_path / "tune.mid"
    notes = [(0, 4 * i, 4, pitch) for i, pitch in enumerate([67, 69, 71, 72, 74, 72, 71, 69])]
    write_score(path, Score.from_notes(32, notes, n_voices=1))
    page.set_input_files("#midi-file", str(path))
    page.wait_for_selector("#melody-name:has-text('tune.mid')")
    assert [pitch for _, _, pitch in melody_notes(page)] == [67, 69, 71, 72, 74, 72, 71, 69]


FAKE_MIDI = """
(() => {
  const input = { id: "fake-1", name: "Fake Keys", state: "connected", onmidimessage: null };
  window.__fakeMidiInput = input;
  navigator.requestMIDIAccess = async () => ({
    inputs: new Map([[input.id, input]]),
    outputs: new Map(),
    onstatechange: null,
    sysexEnabled: false,
  });
})();
"""


def test_a_midi_keyboard_through_web_midi(page_factory: Callable[..., Page]) -> None:
    page = page_factory(init_script=FAKE_MIDI)
    page.click("#midi-connect")
    page.wait_for_selector("#midi-status:has-text('Fake Keys')")

    def play() -> None:
        for pitch in (62, 66, 69):
            page.evaluate(
                "p => window.__fakeMidiInput.onmidimessage({ data: new Uint8Array([0x90, p, 100]) })",
                pitch,
            )
            page.wait_for_timeout(250)
            page.evaluate(
                "p => window.__fakeMidiInput.onmidimessage({ data: new Uint8Array([0x80, p, 0]) })",
                pitch,
            )
        page.evaluate(  # drums (channel 10) are not part of a melody
            "() => window.__fakeMidiInput.onmidimessage({ data: new Uint8Array([0x99, 36, 100]) })"
        )

    record(page, play, count_in=False)
    assert [pitch for _, _, pitch in melody_notes(page)] == [62, 66, 69]


def test_errors_are_shown_in_plain_words_and_lose_nothing(
    page_factory: Callable[..., Page], problems: Problems
) -> None:
    page = page_factory()
    before = melody_notes(page)
    assert before

    problems.expect("status of 400")  # the browser logs the refused upload itself
    page.set_input_files(
        "#midi-file",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not music"}],
    )
    page.wait_for_selector("#error:not([hidden])")
    assert "notes.txt is not a MIDI file" in page.inner_text("#error-text")
    assert melody_notes(page) == before

    page.click("#error-close")
    record(page, lambda: page.wait_for_timeout(100), count_in=False)
    page.wait_for_selector("#error:not([hidden])")
    assert "Nothing was recorded" in page.inner_text("#error-text")
    assert melody_notes(page) == before


def test_the_page_fits_a_phone(page_factory: Callable[..., Page]) -> None:
    page = page_factory(width=390, height=844)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # only the piano rolls scroll sideways, inside their frames
    assert page.locator("#piano .key").count() >= 15
    harmonise(page)
    assert json.loads(page.get_attribute("#harmony-roll", "data-voices"))[0] > 0
