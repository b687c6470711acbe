"""The ``gan-music studio`` subcommand: its options, and starting and stopping the server."""

from __future__ import annotations

import argparse
import sys


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``studio`` to the ``gan-music`` subcommands."""
    studio = commands.add_parser(
        "studio",
        help="open the studio in the browser: play, harmonise, listen, download",
        description="Start the studio on this machine and open it in the browser: play or "
        "record a melody (on-screen piano, computer keyboard, MIDI keyboard or a .mid file), "
        "harmonise it, listen, and download the MIDI file and the picture. Ctrl-C stops it.",
    )
    studio.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0: any free)")
    studio.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    studio.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (others on the network can then reach it)",
    )
    studio.add_argument(
        "--checkpoint", metavar="PATH", help="model file (default: the shipped one)"
    )
    studio.add_argument("--no-browser", action="store_true", help="do not open a browser")
    studio.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM; exit status 0 then."""
    from gan_music.cli import _require
    from gan_music.errors import GanMusicError
    from gan_music.generate import load_model
    from gan_music.studio.server import Studio, check_host, is_loopback, serve

    _require("mido", "studio", "for the studio's MIDI files")
    check_host(args.host, allow_remote=args.allow_remote)
    model = load_model(args.checkpoint)
    if not is_loopback(args.host):
        _say(
            f"warning: listening on {args.host}, not only on this machine: anyone who can "
            "reach this address and has the token can use the studio"
        )
    studio = Studio(
        model=model,
        host=args.host,
        port=args.port,
        checkpoint_name=args.checkpoint or "the shipped model",
    )
    studio.warm_up()

    def ready(url: str) -> None:
        sys.stdout.write(f"studio: {url}\n")
        sys.stdout.flush()
        _say("press Ctrl-C to stop")
        if not args.no_browser:
            import webbrowser

            if not webbrowser.open(url):
                _say("no browser found: open the address above")

    try:
        serve(studio, on_ready=ready)
    except OSError as error:
        msg = f"cannot listen on {args.host}:{args.port} ({error.strerror}): try --port 0"
        raise GanMusicError(msg) from None
    _say("stopped")
    return 0


def _say(message: str) -> None:
    sys.stderr.write(f"studio: {message}\n")
    sys.stderr.flush()


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        msg = f"must be from 0 to 65535, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value
