// gan-music studio: the page. Plain JavaScript, no build step, nothing loaded from elsewhere.
// The server (gan_music/studio/server.py) reads and writes MIDI and runs the model; this file
// records, edits, draws and plays. A melody is kept in the MIDI file's own terms (ticks), so
// an unedited upload goes back to the server exactly as it came.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TPB = 480; // ticks per quarter note of a melody recorded here
  const VOICE_NAMES = ["Soprano", "Alto", "Tenor", "Bass"];
  const VOICE_COLOURS = ["#d1293d", "#2166c4", "#1f9a4a", "#8a3fb5"];
  const KEY_CODES = ["KeyA", "KeyW", "KeyS", "KeyE", "KeyD", "KeyF", "KeyT", "KeyG", "KeyY",
    "KeyH", "KeyU", "KeyJ", "KeyK", "KeyO", "KeyL", "KeyP", "Semicolon", "Quote"];
  const KEY_LABELS = ["A", "W", "S", "E", "D", "F", "T", "G", "Y", "H", "U", "J", "K", "O",
    "L", "P", ";", "'"];
  const NOTE_NAMES = ["C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B"];
  const BLACK = new Set([1, 3, 6, 8, 10]);
  const MAX_UNDO = 200;

  const state = {
    info: { max_steps: 2048, max_upload_bytes: 1 << 20, temperature: null },
    melody: null, // {name, tpb, endTick, notes: [{s, e, p, v}] in ticks, meta, stepsPerBar, firstDownbeat, bpm}
    undo: [],
    redo: [],
    selected: -1,
    harmony: null, // the server's answer, plus the melody it belongs to
    octave: 4,
    recording: null,
    playing: null,
    mute: [false, false, false, false],
    solo: [false, false, false, false],
    held: new Map(), // pitch -> live sound
    harmonisedCount: 0,
  };

  class StudioError extends Error {}

  // Messages ------------------------------------------------------------------------------

  function say(text) {
    $("status").textContent = text;
  }

  function showError(text) {
    $("error-text").textContent = text;
    $("error").hidden = false;
    say("Something needs your attention: see the message above.");
  }

  function clearError() {
    $("error").hidden = true;
  }

  function describe(error) {
    if (error instanceof StudioError) return error.message;
    if (error instanceof TypeError && /fetch/i.test(error.message)) {
      return "The studio's server does not answer: is gan-music studio still running in its terminal?";
    }
    return `Something went wrong in the page: ${error.message || error}`;
  }

  // Talking to the server -----------------------------------------------------------------

  async function call(path, options = {}) {
    const response = await fetch(path, { credentials: "same-origin", ...options });
    if (!response.ok) {
      let message = `The studio answered with status ${response.status}.`;
      try {
        const body = await response.json();
        if (body && body.error) message = `${capitalise(body.error)}${/[.!?)]$/.test(body.error) ? "" : "."}`;
      } catch (_) {
        // not JSON: keep the status message
      }
      throw new StudioError(message);
    }
    return response;
  }

  // "the melody has no notes" reads better as a sentence; "notes.txt is ..." keeps its name.
  function capitalise(text) {
    const first = text.split(/[\s:]/, 1)[0];
    return /^[a-z]+$/.test(first) ? text.charAt(0).toUpperCase() + text.slice(1) : text;
  }

  async function postJson(path, value) {
    return call(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(value),
    });
  }

  // Ticks and steps (the same rounding as gan_music.midi) ----------------------------------

  const stepTick = (step, tpb) => Math.floor((2 * step * tpb + 4) / 8);
  const roundStep = (tick, tpb) => Math.floor((8 * tick + tpb) / (2 * tpb));
  const tickStep = (tick, tpb) => (4 * tick) / tpb;

  function melodyFromServer(value) {
    const tempo = value.meta.find((event) => event[1] === "set_tempo");
    return {
      name: value.name,
      tpb: value.ticks_per_beat,
      endTick: value.end_tick,
      notes: value.notes.map(([s, e, p, v]) => ({ s, e, p, v })),
      meta: value.meta,
      stepsPerBar: value.steps_per_bar,
      firstDownbeat: value.first_downbeat,
      bpm: tempo ? Math.round(60e6 / tempo[2].tempo) : 120,
      beatSteps: beatSteps(value.meta, value.steps_per_bar),
      wasPolyphonic: value.was_polyphonic,
    };
  }

  // Sixteenths per beat line: a dotted quarter in compound metres (6/8, 9/8, 12/8), else a quarter.
  function beatSteps(meta, stepsPerBar) {
    const signature = meta.find((event) => event[1] === "time_signature"
      && (event[2].numerator * 16) / event[2].denominator === stepsPerBar);
    if (!signature) return 4;
    const { numerator, denominator } = signature[2];
    if (denominator === 8 && numerator % 3 === 0) return 6;
    return denominator >= 4 ? 16 / denominator : 4;
  }

  function melodyToServer(melody) {
    return {
      ticks_per_beat: melody.tpb,
      end_tick: melody.endTick,
      notes: melody.notes.map((n) => [n.s, n.e, n.p, n.v]),
      meta: melody.meta,
    };
  }

  function melodyLengthSteps(melody) {
    const last = melody.notes.reduce((end, n) => Math.max(end, n.e), melody.endTick);
    return Math.ceil(tickStep(last, melody.tpb));
  }

  function cloneMelody(melody) {
    return melody ? { ...melody, notes: melody.notes.map((n) => ({ ...n })) } : null;
  }

  // Changing the melody: every change can be undone ---------------------------------------

  function setMelody(melody, { keepUndo = true } = {}) {
    if (keepUndo) {
      state.undo.push(cloneMelody(state.melody));
      if (state.undo.length > MAX_UNDO) state.undo.shift();
      state.redo = [];
    }
    state.melody = melody;
    if (state.selected >= (melody ? melody.notes.length : 0)) state.selected = -1;
    melodyChanged();
  }

  function melodyChanged() {
    const melody = state.melody;
    $("melody-name").textContent = melody ? `— ${melody.name}` : "";
    if (state.harmony && state.harmony.melody !== melody) {
      state.harmony = null;
      say("The melody changed: press Harmonise for new voices.");
    }
    if (melody) {
      $("play-tempo").value = String(melody.bpm);
      $("play-tempo-value").textContent = String(melody.bpm);
    }
    stopPlayback();
    drawMelody();
    drawHarmony();
    updateButtons();
  }

  // Undo and redo: take the melody from one stack, keep the current one on the other.
  function travel(from, to, message) {
    if (!from.length) return;
    to.push(cloneMelody(state.melody));
    state.melody = from.pop();
    state.selected = -1;
    melodyChanged();
    say(message);
  }

  const undo = () => travel(state.undo, state.redo, "Undone.");
  const redo = () => travel(state.redo, state.undo, "Redone.");

  // Edit the selected note by whole sixteenths; the edited note wins where notes overlap.
  function editSelected(change) {
    const melody = state.melody;
    if (!melody || state.selected < 0) {
      say("Select a note first: click it in the melody roll.");
      return;
    }
    const next = cloneMelody(melody);
    const note = next.notes[state.selected];
    const tpb = melody.tpb;
    let start = roundStep(note.s, tpb);
    let end = Math.max(start + 1, roundStep(note.e, tpb));
    let pitch = note.p;
    ({ start, end, pitch } = change({ start, end, pitch }));
    start = Math.max(0, start);
    end = Math.max(start + 1, end);
    pitch = Math.min(127, Math.max(0, pitch));
    if (end > state.info.max_steps) {
      showError(`The studio takes melodies of up to ${state.info.max_steps} sixteenth notes.`);
      return;
    }
    Object.assign(note, { s: stepTick(start, tpb), e: stepTick(end, tpb), p: pitch });
    next.notes = makeRoom(next.notes, note);
    next.endTick = Math.max(next.endTick, note.e);
    state.selected = next.notes.indexOf(note);
    setMelody(next);
  }

  function makeRoom(notes, winner) {
    const kept = [];
    for (const n of notes) {
      if (n === winner || n.e <= winner.s || n.s >= winner.e) {
        kept.push(n);
      } else if (n.s < winner.s) {
        kept.push({ ...n, e: winner.s });
      } else if (n.e > winner.e) {
        kept.push({ ...n, s: winner.e });
      } // else: covered by the winner, dropped
    }
    const result = kept.filter((n) => n.e > n.s);
    result.sort((a, b) => a.s - b.s);
    return result;
  }

  function deleteSelected() {
    if (!state.melody || state.selected < 0) {
      say("Select a note first: click it in the melody roll.");
      return;
    }
    const next = cloneMelody(state.melody);
    next.notes.splice(state.selected, 1);
    state.selected = -1;
    setMelody(next);
    say("Note deleted (Undo brings it back).");
  }

  function addNote(step, pitch) {
    const melody = state.melody ? cloneMelody(state.melody) : newMelody("New melody", 90, 4, 4);
    const tpb = melody.tpb;
    const note = { s: stepTick(step, tpb), e: stepTick(step + 4, tpb), p: pitch, v: 80 };
    melody.notes.push(note);
    melody.notes = makeRoom(melody.notes, note);
    melody.endTick = Math.max(melody.endTick, note.e);
    state.selected = melody.notes.indexOf(note);
    setMelody(melody);
  }

  function newMelody(name, bpm, numerator, denominator) {
    return {
      name,
      tpb: TPB,
      endTick: 0,
      notes: [],
      meta: [
        [0, "set_tempo", { tempo: Math.round(60e6 / bpm) }],
        [0, "time_signature", {
          numerator, denominator, clocks_per_click: 24, notated_32nd_notes_per_beat: 8,
        }],
      ],
      stepsPerBar: (numerator * 16) / denominator,
      firstDownbeat: 0,
      bpm,
      beatSteps: denominator === 8 && numerator % 3 === 0 ? 6 : 16 / denominator,
    };
  }

  // Drawing -------------------------------------------------------------------------------

  function sizeCanvas(canvas, wrap, steps, minPx) {
    const ratio = window.devicePixelRatio || 1;
    const pxPerStep = Math.max(minPx, wrap.clientWidth / Math.max(steps, 1));
    const width = Math.floor(pxPerStep * steps);
    const canvases = [canvas, wrap.querySelector("canvas.overlay")];
    for (const c of canvases) c.style.width = `${width}px`;
    const height = wrap.clientHeight; // after the width: a scroll bar may have taken some
    for (const c of canvases) {
      c.style.height = `${height}px`;
      c.width = Math.round(width * ratio);
      c.height = Math.round(height * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return { ctx, width, height, pxPerStep };
  }

  function pitchRange(pitches, span) {
    if (!pitches.length) return [60, 60 + span - 1];
    let low = Math.min(...pitches) - 2;
    let high = Math.max(...pitches) + 2;
    if (high - low + 1 < span) {
      const extra = span - (high - low + 1);
      low -= Math.floor(extra / 2);
      high += Math.ceil(extra / 2);
    }
    return [Math.max(0, low), Math.min(127, high)];
  }

  function drawGrid(view, steps, stepsPerBar, firstDownbeat, beat, low, high) {
    const { ctx, width, height, pxPerStep } = view;
    const rowHeight = height / (high - low + 1);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, width, height);
    for (let p = low; p <= high; p += 1) {
      const y = (high - p) * rowHeight;
      if (BLACK.has(p % 12)) {
        ctx.fillStyle = "#eef0f5";
        ctx.fillRect(0, y, width, rowHeight);
      }
      if (p % 12 === 0) {
        ctx.fillStyle = "#c9cdd8";
        ctx.fillRect(0, y + rowHeight - 1, width, 1);
      }
    }
    for (let s = firstDownbeat % beat; s <= steps; s += beat) {
      const bar = (s - firstDownbeat) % stepsPerBar === 0;
      ctx.fillStyle = bar ? "#7d8596" : "#dde0e8";
      ctx.fillRect(Math.round(s * pxPerStep), 0, bar ? 1.5 : 1, height);
    }
    ctx.fillStyle = "#5d6678";
    ctx.font = "10px system-ui, sans-serif";
    let number = 1;
    for (let s = firstDownbeat % stepsPerBar; s < steps; s += stepsPerBar) {
      ctx.fillText(String(number), Math.round(s * pxPerStep) + 3, 10);
      number += 1;
    }
    for (let p = low; p <= high; p += 1) {
      if (p % 12 === 0) ctx.fillText(`C${p / 12 - 1}`, 3, (high - p + 1) * rowHeight - 2);
    }
    return rowHeight;
  }

  function drawNote(ctx, x, y, w, h, colour, selected) {
    ctx.fillStyle = colour;
    ctx.fillRect(x + 0.5, y + 0.5, Math.max(2, w - 1), Math.max(2, h - 1));
    if (selected) {
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 2;
      ctx.strokeRect(x + 1, y + 1, Math.max(2, w - 2), Math.max(2, h - 2));
    }
  }

  let melodyView = null;

  function drawMelody(preview = null) {
    const canvas = $("melody-roll");
    const melody = state.melody;
    const wrap = $("melody-wrap");
    const stepsPerBar = melody ? melody.stepsPerBar : 16;
    const firstDownbeat = melody ? melody.firstDownbeat : 0;
    const length = melody ? melodyLengthSteps(melody) : 0;
    const bars = Math.ceil((length - firstDownbeat) / stepsPerBar) + 1;
    const steps = Math.max(firstDownbeat + bars * stepsPerBar, 4 * stepsPerBar);
    const notes = melody ? melody.notes : [];
    const [low, high] = pitchRange(notes.map((n) => n.p), 25);
    const view = sizeCanvas(canvas, wrap, steps, 7);
    const rowHeight = drawGrid(view, steps, stepsPerBar, firstDownbeat, melody ? melody.beatSteps : 4, low, high);
    melodyView = { ...view, low, high, rowHeight, steps };
    notes.forEach((n, index) => {
      let start = tickStep(n.s, melody.tpb);
      let end = tickStep(n.e, melody.tpb);
      let pitch = n.p;
      if (preview && preview.index === index) ({ start, end, pitch } = preview);
      drawNote(view.ctx, start * view.pxPerStep, (high - pitch) * rowHeight,
        (end - start) * view.pxPerStep, rowHeight, VOICE_COLOURS[0], index === state.selected);
    });
    if (!notes.length) {
      view.ctx.fillStyle = "#5d6678";
      view.ctx.font = "14px system-ui, sans-serif";
      view.ctx.fillText("No melody yet: press Record and play, open a .mid file, or load an example.", 12, view.height / 2);
    }
    canvas.dataset.geometry = JSON.stringify({ pxPerStep: view.pxPerStep, low, high, rowHeight });
    canvas.dataset.noteCount = String(notes.length);
    canvas.dataset.notes = JSON.stringify(melody ? notes.map((n) => [
      roundStep(n.s, melody.tpb), roundStep(n.e, melody.tpb), n.p]) : []);
    clearCursor("melody-cursor");
  }

  let harmonyView = null;

  function harmonyVoices() {
    // Soprano: the melody's own notes, as written to the file; below it the model's voices.
    const melody = state.harmony.melody;
    const soprano = melody.notes.map((n) => [tickStep(n.s, melody.tpb), tickStep(n.e - n.s, melody.tpb), n.p]);
    return [soprano, ...state.harmony.voices.slice(1).map((v) => v.notes)];
  }

  function audible(voice) {
    return state.solo.some(Boolean) ? state.solo[voice] : !state.mute[voice];
  }

  function drawHarmony() {
    const canvas = $("harmony-roll");
    const harmony = state.harmony;
    $("harmony-empty").hidden = Boolean(harmony);
    canvas.hidden = !harmony;
    if (!harmony) {
      harmonyView = null;
      canvas.dataset.voices = "[]";
      return;
    }
    const voices = harmonyVoices();
    // As wide as the melody roll above, so that their bar lines line up.
    const steps = Math.max(harmony.n_steps, melodyView ? melodyView.steps : 0);
    const pitches = voices.flat().map((n) => n[2]).filter((p) => p >= 0);
    const [low, high] = pitchRange(pitches, 30);
    const view = sizeCanvas(canvas, $("harmony-wrap"), steps, 6);
    const rowHeight = drawGrid(view, steps, harmony.steps_per_bar, harmony.first_downbeat,
      harmony.melody.beatSteps, low, high);
    harmonyView = { ...view, low, high, rowHeight, steps };
    for (let v = voices.length - 1; v >= 0; v -= 1) {
      view.ctx.globalAlpha = audible(v) ? 1 : 0.22;
      for (const [start, length, pitch] of voices[v]) {
        drawNote(view.ctx, start * view.pxPerStep, (high - pitch) * rowHeight,
          length * view.pxPerStep, rowHeight, VOICE_COLOURS[v], false);
      }
    }
    view.ctx.globalAlpha = 1;
    canvas.dataset.voices = JSON.stringify(voices.map((v) => v.length));
    clearCursor("harmony-cursor");
  }

  function clearCursor(id) {
    const overlay = $(id);
    overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
  }

  function drawCursor(step) {
    const onHarmony = Boolean(state.harmony && harmonyView);
    const view = onHarmony ? harmonyView : melodyView;
    const overlay = $(onHarmony ? "harmony-cursor" : "melody-cursor");
    const wrap = $(onHarmony ? "harmony-wrap" : "melody-wrap");
    if (!view) return;
    const ratio = window.devicePixelRatio || 1;
    const ctx = overlay.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, view.width, view.height);
    const x = step * view.pxPerStep;
    ctx.fillStyle = "rgba(39, 83, 201, 0.9)";
    ctx.fillRect(x - 1, 0, 2, view.height);
    if (x > wrap.scrollLeft + wrap.clientWidth - 40 || x < wrap.scrollLeft) {
      wrap.scrollLeft = Math.max(0, x - 40);
    }
  }

  function updateButtons() {
    const hasMelody = Boolean(state.melody && state.melody.notes.length);
    const recording = Boolean(state.recording);
    $("undo").disabled = !state.undo.length || recording;
    $("redo").disabled = !state.redo.length || recording;
    for (const id of ["delete-note", "note-left", "note-right", "note-up", "note-down", "note-shorter", "note-longer"]) {
      $(id).disabled = state.selected < 0 || recording;
    }
    $("clear-melody").disabled = !hasMelody || recording;
    $("harmonise").disabled = !hasMelody || recording;
    $("another").disabled = !hasMelody || recording;
    $("play").disabled = !hasMelody || recording;
    $("download-midi").disabled = !state.harmony || recording;
    $("download-png").disabled = !state.harmony || recording;
    $("record").disabled = recording;
    $("record-stop").disabled = !recording;
    document.body.classList.toggle("recording", recording);
  }

  // Pointer editing on the melody roll ------------------------------------------------------

  let drag = null;
  let lastEmptyTap = null;

  function hit(event) {
    const rect = $("melody-roll").getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const view = melodyView;
    const step = x / view.pxPerStep;
    const pitch = view.high - Math.floor(y / view.rowHeight);
    const melody = state.melody;
    let index = -1;
    if (melody) {
      index = melody.notes.findIndex((n) => n.p === pitch
        && tickStep(n.s, melody.tpb) <= step && step < tickStep(n.e, melody.tpb));
    }
    return { x, y, step, pitch, index };
  }

  function onRollPointerDown(event) {
    if (state.recording || !melodyView) return;
    const target = hit(event);
    const canvas = $("melody-roll");
    canvas.focus({ preventScroll: true });
    if (target.index < 0) {
      state.selected = -1;
      drawMelody();
      updateButtons();
      const now = performance.now();
      if (lastEmptyTap && now - lastEmptyTap.time < 400 && Math.abs(lastEmptyTap.x - target.x) < 12) {
        lastEmptyTap = null;
        addNote(Math.max(0, Math.floor(target.step)), target.pitch);
        say("Note added.");
      } else {
        lastEmptyTap = { time: now, x: target.x };
      }
      return;
    }
    const melody = state.melody;
    const note = melody.notes[target.index];
    const start = tickStep(note.s, melody.tpb);
    const end = tickStep(note.e, melody.tpb);
    const resize = event.pointerType === "mouse" && end * melodyView.pxPerStep - target.x < 7;
    state.selected = target.index;
    drag = { index: target.index, mode: resize ? "resize" : "move", x0: target.x, y0: target.y,
      start, end, pitch: note.p, moved: false };
    if (event.pointerType === "mouse") canvas.setPointerCapture(event.pointerId);
    drawMelody();
    updateButtons();
    say(`${noteName(note.p)} selected: drag it, or use the buttons below the roll.`);
  }

  function dragTarget(event) {
    const target = hit(event);
    const dSteps = Math.round((target.x - drag.x0) / melodyView.pxPerStep);
    const dPitch = Math.round((drag.y0 - target.y) / melodyView.rowHeight);
    if (drag.mode === "resize") {
      return { start: drag.start, end: Math.max(Math.round(drag.start) + 1, Math.round(drag.end) + dSteps), pitch: drag.pitch };
    }
    const start = Math.max(0, Math.round(drag.start) + dSteps);
    return { start, end: start + Math.max(1, Math.round(drag.end - drag.start)), pitch: drag.pitch + dPitch };
  }

  function onRollPointerMove(event) {
    const canvas = $("melody-roll");
    if (!drag) {
      if (melodyView && state.melody && event.pointerType === "mouse") {
        const target = hit(event);
        const note = state.melody.notes[target.index];
        const nearEnd = note && tickStep(note.e, state.melody.tpb) * melodyView.pxPerStep - target.x < 7;
        canvas.style.cursor = note ? (nearEnd ? "ew-resize" : "grab") : "default";
      }
      return;
    }
    const preview = dragTarget(event);
    drag.moved = drag.moved || preview.start !== Math.round(drag.start)
      || preview.end !== Math.round(drag.end) || preview.pitch !== drag.pitch;
    drawMelody({ index: drag.index, ...preview });
  }

  function onRollPointerUp(event) {
    if (!drag) return;
    const finished = drag;
    const target = dragTarget(event);
    drag = null;
    if (!finished.moved) return;
    state.selected = finished.index;
    editSelected(() => target);
    say(finished.mode === "resize" ? "Note length changed." : "Note moved.");
  }

  function onRollPointerCancel() {
    drag = null;
    drawMelody();
  }

  function noteName(pitch) {
    return `${NOTE_NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}`;
  }

  // Sound -----------------------------------------------------------------------------------

  let audio = null;

  const INSTRUMENTS = {
    organ: { partials: [[1, 0.5, "sine"], [2, 0.22, "sine"], [3, 0.1, "sine"], [4, 0.08, "sine"]], attack: 0.012, release: 0.06 },
    strings: { partials: [[1, 0.3, "sawtooth"], [1.003, 0.2, "sawtooth"]], filter: 2400, attack: 0.09, release: 0.18 },
    flute: { partials: [[1, 0.55, "triangle"], [2, 0.06, "sine"]], attack: 0.05, release: 0.08 },
    chip: { partials: [[1, 0.18, "square"]], attack: 0.004, release: 0.03 },
  };

  function ensureAudio() {
    if (!audio) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) {
        throw new StudioError("This browser has no Web Audio: try a current Firefox, Chrome, Edge or Safari.");
      }
      const ctx = new Context();
      const master = ctx.createGain();
      master.gain.value = 0.6;
      master.connect(ctx.destination);
      const voices = VOICE_NAMES.map(() => {
        const gain = ctx.createGain();
        gain.gain.value = 0.35;
        gain.connect(master);
        return gain;
      });
      const live = ctx.createGain();
      live.gain.value = 0.45;
      live.connect(master);
      audio = { ctx, master, voices, live };
      ctx.onstatechange = () => { document.body.dataset.audioState = ctx.state; };
    }
    if (audio.ctx.state === "suspended") audio.ctx.resume();
    document.body.dataset.audioState = audio.ctx.state;
    applyMix();
    return audio;
  }

  // Start the audio if it can be started; else say why, and the caller does nothing.
  function audioReady() {
    try {
      ensureAudio();
      return true;
    } catch (error) {
      showError(describe(error));
      return false;
    }
  }

  function applyMix() {
    if (!audio) return;
    audio.voices.forEach((gain, v) => gain.gain.setTargetAtTime(audible(v) ? 0.35 : 0, audio.ctx.currentTime, 0.01));
  }

  // One note of the chosen instrument; `duration` null means held until release() is called.
  function sound(pitch, when, duration, destination, velocity = 80) {
    const { ctx } = audio;
    const instrument = INSTRUMENTS[$("instrument").value] || INSTRUMENTS.organ;
    const frequency = 440 * 2 ** ((pitch - 69) / 12);
    const envelope = ctx.createGain();
    const peak = 0.25 + (0.75 * velocity) / 127;
    envelope.gain.setValueAtTime(0, when);
    envelope.gain.linearRampToValueAtTime(peak, when + instrument.attack);
    let output = envelope;
    if (instrument.filter) {
      const filter = ctx.createBiquadFilter();
      filter.type = "lowpass";
      filter.frequency.value = instrument.filter;
      envelope.connect(filter);
      output = filter;
    }
    output.connect(destination);
    const oscillators = instrument.partials.map(([ratio, gain, type]) => {
      const osc = ctx.createOscillator();
      const level = ctx.createGain();
      osc.type = type;
      osc.frequency.value = frequency * ratio;
      level.gain.value = gain;
      osc.connect(level);
      level.connect(envelope);
      osc.start(when);
      return osc;
    });
    const release = (at) => {
      const end = Math.max(at, when + instrument.attack);
      envelope.gain.cancelScheduledValues(end);
      envelope.gain.setValueAtTime(peak, end);
      envelope.gain.linearRampToValueAtTime(0, end + instrument.release);
      for (const osc of oscillators) osc.stop(end + instrument.release + 0.02);
    };
    if (duration !== null) release(when + duration);
    return {
      release,
      stop: () => { for (const osc of oscillators) { try { osc.stop(); } catch (_) { /* already stopped */ } } },
    };
  }

  function click(when, accent) {
    const { ctx } = audio;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = accent ? 1760 : 1175;
    gain.gain.setValueAtTime(0.0001, when);
    gain.gain.exponentialRampToValueAtTime(accent ? 0.6 : 0.35, when + 0.002);
    gain.gain.exponentialRampToValueAtTime(0.0001, when + 0.05);
    osc.connect(gain);
    gain.connect(audio.master);
    osc.start(when);
    osc.stop(when + 0.06);
  }

  // Live notes, from any source: the on-screen piano, the computer keyboard, a MIDI keyboard.

  function noteOn(pitch, velocity = 90) {
    if (pitch < 0 || pitch > 127 || state.held.has(pitch)) return;
    if (!audioReady()) return;
    const live = sound(pitch, audio.ctx.currentTime, null, audio.live, velocity);
    state.held.set(pitch, live);
    highlightKey(pitch, true);
    if (state.recording) state.recording.open.set(pitch, { on: performance.now(), v: velocity });
  }

  function noteOff(pitch) {
    const live = state.held.get(pitch);
    if (!live) return;
    state.held.delete(pitch);
    live.release(audio.ctx.currentTime);
    highlightKey(pitch, false);
    const recording = state.recording;
    if (recording && recording.open.has(pitch)) {
      const { on, v } = recording.open.get(pitch);
      recording.open.delete(pitch);
      recording.events.push({ on, off: performance.now(), p: pitch, v });
    }
  }

  function releaseAll() {
    for (const pitch of [...state.held.keys()]) noteOff(pitch);
  }

  // The on-screen piano -------------------------------------------------------------------------

  function buildPiano() {
    const piano = $("piano");
    piano.textContent = "";
    const whites = piano.clientWidth < 560 ? 15 : 22;
    const lowest = 12 * (state.octave + 1);
    const keys = [];
    let white = 0;
    for (let pitch = lowest; white < whites; pitch += 1) {
      const key = document.createElement("div");
      const black = BLACK.has(pitch % 12);
      key.className = black ? "key black" : "key";
      key.dataset.pitch = String(pitch);
      key.setAttribute("role", "button");
      key.setAttribute("aria-label", noteName(pitch));
      const offset = pitch - lowest;
      if (offset < KEY_LABELS.length) {
        const letter = document.createElement("span");
        letter.className = "key-letter";
        letter.textContent = KEY_LABELS[offset];
        key.appendChild(letter);
      }
      if (!black) {
        if (pitch % 12 === 0) {
          const name = document.createElement("span");
          name.textContent = `C${pitch / 12 - 1}`;
          key.appendChild(name);
        }
        white += 1;
      }
      keys.push({ key, black, whiteIndex: white - (black ? 0 : 1) });
      piano.appendChild(key);
    }
    const width = 100 / whites;
    for (const { key, black, whiteIndex } of keys) {
      if (black) {
        key.style.left = `calc(${whiteIndex * width}% - ${width * 0.3}%)`;
        key.style.width = `${width * 0.6}%`;
      }
    }
    $("octave-label").textContent = `C${state.octave}`;
  }

  function highlightKey(pitch, down) {
    const key = $("piano").querySelector(`[data-pitch="${pitch}"]`);
    if (key) key.classList.toggle("down", down);
  }

  function pianoPitch(event) {
    const key = event.target.closest(".key");
    return key ? Number(key.dataset.pitch) : null;
  }

  const pointerPitch = new Map();

  function onPianoDown(event) {
    const pitch = pianoPitch(event);
    if (pitch === null) return;
    event.preventDefault();
    $("piano").setPointerCapture(event.pointerId);
    pointerPitch.set(event.pointerId, pitch);
    noteOn(pitch, 90);
  }

  function onPianoMove(event) {
    if (!pointerPitch.has(event.pointerId)) return;
    const element = document.elementFromPoint(event.clientX, event.clientY);
    const key = element && element.closest ? element.closest(".key") : null;
    const pitch = key ? Number(key.dataset.pitch) : null;
    const previous = pointerPitch.get(event.pointerId);
    if (pitch !== null && pitch !== previous) {
      noteOff(previous);
      pointerPitch.set(event.pointerId, pitch);
      noteOn(pitch, 90);
    }
  }

  function onPianoUp(event) {
    if (!pointerPitch.has(event.pointerId)) return;
    noteOff(pointerPitch.get(event.pointerId));
    pointerPitch.delete(event.pointerId);
  }

  function shiftOctave(by) {
    const next = Math.min(7, Math.max(1, state.octave + by));
    if (next === state.octave) return;
    releaseAll();
    state.octave = next;
    buildPiano();
    say(`The keyboard starts at C${state.octave}.`);
  }

  // The computer keyboard ------------------------------------------------------------------------

  function typing(event) {
    const target = event.target;
    return target instanceof HTMLInputElement || target instanceof HTMLSelectElement
      || target instanceof HTMLTextAreaElement;
  }

  function onKeyDown(event) {
    if (typing(event) || event.altKey) return;
    const command = event.ctrlKey || event.metaKey;
    if (command && event.code === "KeyZ") {
      event.preventDefault();
      if (event.shiftKey) redo(); else undo();
      return;
    }
    if (command && event.code === "KeyY") {
      event.preventDefault();
      redo();
      return;
    }
    if (command) return;
    if (state.selected >= 0 && document.activeElement === $("melody-roll")) {
      const moves = {
        ArrowLeft: event.shiftKey ? (n) => ({ ...n, end: n.end - 1 }) : (n) => ({ ...n, start: n.start - 1, end: n.end - 1 }),
        ArrowRight: event.shiftKey ? (n) => ({ ...n, end: n.end + 1 }) : (n) => ({ ...n, start: n.start + 1, end: n.end + 1 }),
        ArrowUp: (n) => ({ ...n, pitch: n.pitch + 1 }),
        ArrowDown: (n) => ({ ...n, pitch: n.pitch - 1 }),
      };
      if (moves[event.code]) {
        event.preventDefault();
        editSelected(moves[event.code]);
        return;
      }
      if (event.code === "Delete" || event.code === "Backspace") {
        event.preventDefault();
        deleteSelected();
        return;
      }
    }
    if (event.code === "KeyZ" || event.code === "KeyX") {
      if (!event.repeat) shiftOctave(event.code === "KeyZ" ? -1 : 1);
      return;
    }
    const offset = KEY_CODES.indexOf(event.code);
    if (offset >= 0) {
      event.preventDefault();
      if (!event.repeat) noteOn(12 * (state.octave + 1) + offset, 90);
    }
  }

  function onKeyUp(event) {
    const offset = KEY_CODES.indexOf(event.code);
    if (offset >= 0) noteOff(12 * (state.octave + 1) + offset);
  }

  // A MIDI keyboard (Web MIDI) -------------------------------------------------------------------

  function onMidiMessage(event) {
    const [status, data1, data2] = event.data;
    const command = status & 0xf0;
    if ((status & 0x0f) === 9) return; // drums
    if (command === 0x90 && data2 > 0) noteOn(data1, data2);
    else if (command === 0x80 || command === 0x90) noteOff(data1);
  }

  async function connectMidi() {
    if (typeof navigator.requestMIDIAccess !== "function") {
      showError("This browser has no Web MIDI: use Chrome or Edge for a MIDI keyboard, or play on the on-screen piano.");
      return;
    }
    try {
      const access = await navigator.requestMIDIAccess();
      const attach = () => {
        const names = [];
        for (const input of access.inputs.values()) {
          input.onmidimessage = onMidiMessage;
          names.push(input.name || "MIDI input");
        }
        $("midi-status").textContent = names.length
          ? `MIDI: ${names.join(", ")}` : "No MIDI keyboard found: plug one in, it is picked up at once.";
      };
      access.onstatechange = attach;
      attach();
      $("midi-connect").disabled = true;
    } catch (error) {
      showError(`The browser did not allow MIDI access (${error.message || error}): allow it in the site settings, or play on the on-screen piano.`);
    }
  }

  // Recording ------------------------------------------------------------------------------------

  function startRecording() {
    clearError();
    if (!audioReady()) return;
    stopPlayback();
    releaseAll();
    const bpm = Math.min(200, Math.max(40, Number($("record-tempo").value) || 90));
    $("record-tempo").value = String(bpm);
    const [numerator, denominator] = $("metre").value.split("/").map(Number);
    const stepsPerBar = (numerator * 16) / denominator;
    const stepMs = 60000 / bpm / 4;
    const clickSteps = denominator === 8 ? 2 : 4;
    const countInSteps = $("count-in").checked ? stepsPerBar : 0;
    const now = performance.now();
    const zero = now + 150 + countInSteps * stepMs;
    state.recording = {
      bpm, numerator, denominator, stepsPerBar, stepMs, clickSteps, zero,
      nextClick: -countInSteps, open: new Map(), events: [], timer: 0,
    };
    state.recording.timer = setInterval(tickRecording, 25);
    tickRecording();
    updateButtons();
    say(countInSteps ? "Count-in… play after one bar of clicks." : "Recording: play now.");
  }

  function tickRecording() {
    const r = state.recording;
    if (!r) return;
    const now = performance.now();
    const elapsedSteps = (now - r.zero) / r.stepMs;
    while (r.nextClick * r.stepMs + r.zero < now + 120) {
      const at = r.zero + r.nextClick * r.stepMs;
      if (r.nextClick < 0 || $("metronome").checked) {
        click(audio.ctx.currentTime + Math.max(0, (at - now) / 1000), r.nextClick % r.stepsPerBar === 0);
      }
      r.nextClick += r.clickSteps;
    }
    if (elapsedSteps >= 0 && !r.started) {
      r.started = true;
      say("Recording: play now, then press Stop recording.");
    }
    if (elapsedSteps >= state.info.max_steps) {
      stopRecording();
      showError(`The recording reached the ${state.info.max_steps} sixteenth notes the studio takes, so it stopped there.`);
    }
  }

  function stopRecording() {
    const r = state.recording;
    if (!r) return;
    const now = performance.now();
    for (const [pitch, { on, v }] of r.open) r.events.push({ on, off: now, p: pitch, v });
    r.open.clear();
    clearInterval(r.timer);
    state.recording = null;
    const notes = quantise(r);
    updateButtons();
    if (!notes.length) {
      showError("Nothing was recorded: press Record, wait for the count-in, play some notes, then press Stop recording.");
      return;
    }
    const melody = newMelody(`Recording at ${r.bpm} bpm`, r.bpm, r.numerator, r.denominator);
    const last = notes[notes.length - 1].end;
    const bars = Math.ceil(last / r.stepsPerBar);
    melody.notes = notes.map((n) => ({ s: stepTick(n.start, TPB), e: stepTick(n.end, TPB), p: n.p, v: n.v }));
    melody.endTick = stepTick(bars * r.stepsPerBar, TPB);
    state.selected = -1;
    setMelody(melody);
    say(`Recorded ${notes.length} notes in ${bars} bars. Press Harmonise.`);
  }

  // Sixteenths from the recording's zero; one note at a time, the highest winning a tie.
  function quantise(r) {
    const raw = r.events
      .filter((e) => e.off > r.zero)
      .map((e) => {
        const start = Math.max(0, Math.round((e.on - r.zero) / r.stepMs));
        const end = Math.max(start + 1, Math.round((e.off - r.zero) / r.stepMs));
        return { start, end: Math.min(end, state.info.max_steps), p: e.p, v: Math.max(1, Math.min(127, e.v)) };
      })
      .filter((n) => n.end > n.start)
      .sort((a, b) => a.start - b.start || b.p - a.p);
    const line = [];
    for (const note of raw) {
      const previous = line[line.length - 1];
      if (previous && previous.start === note.start) continue;
      if (previous && previous.end > note.start) previous.end = note.start;
      line.push(note);
    }
    return line;
  }

  // Loading --------------------------------------------------------------------------------------

  async function loadExample(key, { keepUndo = true } = {}) {
    clearError();
    try {
      const response = await call(`/api/examples/${encodeURIComponent(key)}`);
      const melody = melodyFromServer(await response.json());
      state.selected = -1;
      setMelody(melody, { keepUndo });
      say(`Loaded ${melody.name}. Press Harmonise.`);
    } catch (error) {
      showError(describe(error));
    }
  }

  async function loadFile(file) {
    clearError();
    if (!file) return;
    if (file.size > state.info.max_upload_bytes) {
      showError(`${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MB: the studio takes MIDI files up to ${state.info.max_upload_bytes / 2 ** 20} MB.`);
      return;
    }
    say(`Reading ${file.name}…`);
    try {
      const data = await file.arrayBuffer();
      const response = await call(`/api/read-midi?name=${encodeURIComponent(file.name)}`, {
        method: "POST",
        headers: { "Content-Type": "application/octet-stream" },
        body: data,
      });
      const melody = melodyFromServer(await response.json());
      state.selected = -1;
      setMelody(melody);
      say(`Loaded ${file.name}${melody.wasPolyphonic ? " (its top line)" : ""}. Press Harmonise.`);
    } catch (error) {
      showError(describe(error));
    }
  }

  // Harmonising ----------------------------------------------------------------------------------

  function seed() {
    const value = Math.floor(Number($("seed").value));
    if (!Number.isFinite(value) || value < 0) {
      $("seed").value = "1";
      return 1;
    }
    return value;
  }

  function temperature() {
    if (state.info.temperature === null) return null;
    const value = Number($("temperature").value);
    return Math.abs(value - state.info.temperature) < 1e-9 ? null : value;
  }

  function harmonyRequest() {
    return { melody: melodyToServer(state.melody), seed: seed(), temperature: temperature() };
  }

  async function harmonise() {
    clearError();
    if (!state.melody || !state.melody.notes.length) {
      showError("There is no melody yet: play one, open a .mid file or load an example first.");
      return;
    }
    const started = performance.now();
    const melody = state.melody;
    $("harmonise").disabled = true;
    say("Harmonising…");
    try {
      const response = await postJson("/api/harmonise", harmonyRequest());
      const harmony = await response.json();
      if (state.melody !== melody) { // edited meanwhile: that answer is out of date
        say("The melody changed while harmonising: press Harmonise again.");
        return;
      }
      stopPlayback();
      state.harmony = { ...harmony, melody };
      drawHarmony();
      updateButtons();
      state.harmonisedCount += 1;
      const count = state.harmonisedCount;
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const ms = performance.now() - started;
        document.body.dataset.harmonyMs = ms.toFixed(1);
        document.body.dataset.harmonyCount = String(count);
        say(`Harmonised with seed ${harmony.seed}. Press Play to listen.`);
      }));
    } catch (error) {
      showError(describe(error));
    } finally {
      updateButtons();
    }
  }

  function anotherVersion() {
    $("seed").value = String(Math.floor(Math.random() * 1e9));
    harmonise();
  }

  // Playback -------------------------------------------------------------------------------------

  // Play from `fromStep` (a sixteenth; a note sounding there starts at once, shortened).
  function play(fromStep = 0) {
    clearError();
    if (!state.melody || !state.melody.notes.length) return;
    if (!audioReady()) return;
    stopPlayback();
    const bpm = Number($("play-tempo").value);
    const stepSec = 60 / bpm / 4;
    const melody = state.melody;
    const voices = state.harmony ? harmonyVoices()
      : [melody.notes.map((n) => [tickStep(n.s, melody.tpb), tickStep(n.e - n.s, melody.tpb), n.p])];
    const endStep = state.harmony ? state.harmony.n_steps : melodyLengthSteps(melody);
    const start = audio.ctx.currentTime + 0.08 - fromStep * stepSec; // when step 0 would be
    const sounds = [];
    voices.forEach((notes, v) => {
      for (const [step, length, pitch] of notes) {
        if (pitch < 0 || step + length <= fromStep) continue;
        const from = Math.max(step, fromStep);
        const duration = (step + length - from) * stepSec * 0.97;
        sounds.push(sound(pitch, start + from * stepSec, duration, audio.voices[v], v ? 64 : 80));
      }
    });
    state.playing = { start, stepSec, endStep, sounds, frame: 0 };
    document.body.dataset.playing = "true";
    $("play").textContent = "▶ Playing";
    say(state.harmony ? "Playing the four voices." : "Playing the melody (harmonise it to hear four voices).");
    const follow = () => {
      const playing = state.playing;
      if (!playing) return;
      const step = (audio.ctx.currentTime - playing.start) / playing.stepSec;
      document.body.dataset.cursorStep = step.toFixed(2);
      drawCursor(Math.max(0, step));
      if (step > playing.endStep + 1) {
        stopPlayback();
        say("Finished.");
        return;
      }
      playing.frame = requestAnimationFrame(follow);
    };
    state.playing.frame = requestAnimationFrame(follow);
  }

  function stopPlayback() {
    const playing = state.playing;
    if (!playing) return;
    state.playing = null;
    cancelAnimationFrame(playing.frame);
    for (const s of playing.sounds) s.stop();
    document.body.dataset.playing = "false";
    $("play").textContent = "▶ Play";
    clearCursor("harmony-cursor");
    clearCursor("melody-cursor");
  }

  function buildVoiceControls() {
    const box = $("voices");
    box.textContent = "";
    VOICE_NAMES.forEach((name, v) => {
      const row = document.createElement("span");
      row.className = "voice";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = VOICE_COLOURS[v];
      const label = document.createElement("span");
      label.textContent = name;
      row.append(swatch, label);
      for (const kind of ["mute", "solo"]) {
        const button = document.createElement("button");
        button.type = "button";
        button.id = `${kind}-${v}`;
        button.textContent = kind === "mute" ? "Mute" : "Solo";
        button.setAttribute("aria-pressed", "false");
        button.setAttribute("aria-label", `${button.textContent} ${name}`);
        button.addEventListener("click", () => {
          state[kind][v] = !state[kind][v];
          button.setAttribute("aria-pressed", String(state[kind][v]));
          applyMix();
          drawHarmony();
        });
        row.appendChild(button);
      }
      box.appendChild(row);
    });
  }

  // Keeping it -----------------------------------------------------------------------------------

  function download(blob, filename) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function fileStem() {
    const name = (state.harmony ? state.harmony.melody.name : "melody").replace(/\.[a-z]+$/i, "");
    const stem = name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "melody";
    return `${stem}-seed${state.harmony ? state.harmony.seed : seed()}`;
  }

  async function downloadMidi() {
    clearError();
    if (!state.harmony) return;
    const harmony = state.harmony;
    try {
      const request = {
        melody: melodyToServer(harmony.melody), seed: harmony.seed, temperature: harmony.temperature,
      };
      const stem = fileStem();
      const response = await postJson(`/api/write-midi?name=${encodeURIComponent(stem)}`, request);
      download(await response.blob(), `${stem}.mid`);
      say(`Downloaded ${stem}.mid: the melody and the three voices, one track each.`);
    } catch (error) {
      showError(describe(error));
    }
  }

  function downloadPicture() {
    if (!state.harmony) return;
    const stem = fileStem();
    $("harmony-roll").toBlob((blob) => {
      if (!blob) {
        showError("The browser could not make the picture.");
        return;
      }
      download(blob, `${stem}.png`);
      say(`Downloaded ${stem}.png.`);
    }, "image/png");
  }

  // Start ----------------------------------------------------------------------------------------

  function wire() {
    $("error-close").addEventListener("click", clearError);
    $("load-example").addEventListener("click", () => loadExample($("example").value));
    $("midi-file").addEventListener("change", (event) => {
      const input = event.target;
      loadFile(input.files[0]).finally(() => { input.value = ""; });
    });
    $("midi-connect").addEventListener("click", connectMidi);
    $("record").addEventListener("click", startRecording);
    $("record-stop").addEventListener("click", stopRecording);
    $("undo").addEventListener("click", undo);
    $("redo").addEventListener("click", redo);
    $("delete-note").addEventListener("click", deleteSelected);
    const edits = {
      "note-left": (n) => ({ ...n, start: n.start - 1, end: n.end - 1 }),
      "note-right": (n) => ({ ...n, start: n.start + 1, end: n.end + 1 }),
      "note-up": (n) => ({ ...n, pitch: n.pitch + 1 }),
      "note-down": (n) => ({ ...n, pitch: n.pitch - 1 }),
      "note-shorter": (n) => ({ ...n, end: n.end - 1 }),
      "note-longer": (n) => ({ ...n, end: n.end + 1 }),
    };
    for (const [id, change] of Object.entries(edits)) $(id).addEventListener("click", () => editSelected(change));
    $("clear-melody").addEventListener("click", () => {
      const cleared = cloneMelody(state.melody);
      cleared.notes = [];
      state.selected = -1;
      setMelody(cleared);
      say("Melody cleared (Undo brings it back).");
    });
    $("octave-down").addEventListener("click", () => shiftOctave(-1));
    $("octave-up").addEventListener("click", () => shiftOctave(1));
    const piano = $("piano");
    piano.addEventListener("pointerdown", onPianoDown);
    piano.addEventListener("pointermove", onPianoMove);
    piano.addEventListener("pointerup", onPianoUp);
    piano.addEventListener("pointercancel", onPianoUp);
    piano.addEventListener("contextmenu", (event) => event.preventDefault());
    const roll = $("melody-roll");
    roll.addEventListener("pointerdown", onRollPointerDown);
    roll.addEventListener("pointermove", onRollPointerMove);
    roll.addEventListener("pointerup", onRollPointerUp);
    roll.addEventListener("pointercancel", onRollPointerCancel);
    document.addEventListener("keydown", onKeyDown);
    document.addEventListener("keyup", onKeyUp);
    window.addEventListener("blur", releaseAll);
    $("harmonise").addEventListener("click", harmonise);
    $("another").addEventListener("click", anotherVersion);
    $("temperature").addEventListener("input", () => {
      $("temperature-value").textContent = Number($("temperature").value).toFixed(2);
    });
    $("play").addEventListener("click", () => play(0));
    $("stop").addEventListener("click", () => { stopPlayback(); say("Stopped."); });
    $("play-tempo").addEventListener("input", () => {
      $("play-tempo-value").textContent = $("play-tempo").value;
      const playing = state.playing;
      if (playing) play(Math.max(0, (audio.ctx.currentTime - playing.start) / playing.stepSec));
    });
    $("download-midi").addEventListener("click", downloadMidi);
    $("download-png").addEventListener("click", downloadPicture);
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { buildPiano(); drawMelody(); drawHarmony(); }, 100);
    });
    if (typeof navigator.requestMIDIAccess !== "function") {
      $("midi-connect").disabled = true;
      $("midi-status").textContent = "(this browser has no Web MIDI)";
    }
  }

  async function start() {
    if (new URLSearchParams(location.search).has("token")) {
      history.replaceState(null, "", location.pathname); // the cookie carries the token now
    }
    // Ask the server first, so that its answers travel while the page is built.
    const answers = Promise.all([
      call("/api/info").then((r) => r.json()),
      call("/api/examples").then((r) => r.json()),
    ]);
    answers.catch(() => {}); // handled below, once the page is built
    wire();
    buildPiano();
    buildVoiceControls();
    drawMelody();
    drawHarmony();
    updateButtons();
    try {
      const [info, examples] = await answers;
      state.info = info;
      if (info.temperature !== null) {
        $("temperature-label").hidden = false;
        $("temperature").min = String(info.temperature_range[0]);
        $("temperature").max = String(Math.min(2, info.temperature_range[1]));
        $("temperature").value = String(info.temperature);
        $("temperature-value").textContent = info.temperature.toFixed(2);
      }
      for (const example of examples.examples) {
        const option = document.createElement("option");
        option.value = example.key;
        option.textContent = example.title;
        $("example").appendChild(option);
      }
      if (examples.first) {
        setMelody(melodyFromServer(examples.first), { keepUndo: false });
      }
      say(`Ready (${info.model}). Play on the piano or the computer keys, or press Harmonise.`);
      document.body.dataset.ready = "true";
    } catch (error) {
      showError(describe(error));
    }
  }

  window.addEventListener("unhandledrejection", (event) => showError(describe(event.reason)));
  start();
})();
