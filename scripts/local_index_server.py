"""Run the publish rehearsal's pypiserver so that it never outlives the script that started it.

``scripts/publish.py`` starts this with a pipe on its standard input and keeps the other end::

    python scripts/local_index_server.py --parent PID --password-file FILE -- PYPISERVER_ARGS

It runs pypiserver in this process and stops it, deleting the password file first, when:

- the pipe closes, which happens when the parent exits however it dies (``kill -9``
  included), on every platform;
- on Linux, the parent dies: the kernel then sends SIGTERM (``PR_SET_PDEATHSIG``, set here at
  start-up), even if something else still holds the pipe open;
- SIGTERM arrives: the parent's normal way of stopping it.

Exit status: 0 stopped, 4 the port is already in use (one line on stderr says which), and
pypiserver's own status for anything else.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

EXIT_PORT_IN_USE = 4
# From <linux/prctl.h>: set the signal this process receives when its parent dies.
PR_SET_PDEATHSIG = 1


def stop(password_file: Path, status: int = 0) -> None:
    """Delete the password file and end the process at once, threads and server included."""
    with contextlib.suppress(OSError):
        password_file.unlink()
    os._exit(status)


def die_with_parent(parent: int, password_file: Path) -> None:
    """Stop when ``parent`` dies: the kernel's parent-death signal, then the stdin pipe."""
    signal.signal(signal.SIGTERM, lambda *_: stop(password_file))
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        stop(password_file)

    def wait_for_the_pipe_to_close() -> None:
        with contextlib.suppress(OSError, ValueError):
            while sys.stdin.buffer.read(4096):
                pass
        stop(password_file)

    threading.Thread(target=wait_for_the_pipe_to_close, daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    """Watch the parent, then serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parent", type=int, required=True, help="the process to die with")
    parser.add_argument("--password-file", type=Path, required=True, help="deleted on exit")
    parser.add_argument("--port", type=int, required=True, help="the port pypiserver binds")
    parser.add_argument("pypiserver_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    die_with_parent(args.parent, args.password_file)
    from pypiserver.__main__ import main as pypiserver_main  # type: ignore[import-untyped]

    try:
        forwarded = args.pypiserver_args
        pypiserver_main(forwarded[1:] if forwarded[:1] == ["--"] else forwarded)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        sys.stderr.write(f"port {args.port} is already in use: {error.strerror}\n")
        stop(args.password_file, EXIT_PORT_IN_USE)
    stop(args.password_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
