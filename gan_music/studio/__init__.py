"""``gan-music studio``: play, record or load a melody in the browser, harmonise it, listen, keep it.

A small local web server (:mod:`gan_music.studio.server`, the standard library's
``http.server``) serves one page (``static/``: HTML, CSS and JavaScript, no build step,
nothing fetched from elsewhere) and a few JSON calls (:mod:`gan_music.studio.api`) that run
gan_music's own MIDI reader, model and MIDI writer. See docs/studio.md.
"""

from __future__ import annotations
