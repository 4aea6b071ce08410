"""This machine, for the tests: where the checkout and the installed command are, and ports to listen on.

Ports without the bind-close-reopen race: a port nothing may listen on is held bound (not listening) for as long as
the test needs it (``unused_port``), and a process that binds a port of its own is started by ``listening``, which
starts it again on another port when the one it was given was taken before it could bind it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["LETTA_MOCK", "ROOT", "PortTaken", "listening", "port_taken", "still_running", "unused_port"]

ROOT = Path(__file__).resolve().parents[1]  # the checkout
LETTA_MOCK = str(Path(sys.executable).with_name("letta-mock"))  # the command this environment installed

# What a process says when its port was taken: uvicorn's words (Linux, macOS), and letta-mock's own one line.
_TAKEN = ("address already in use", "[errno 98]", "[errno 48]", " is in use")


class PortTaken(Exception):
    """The port a process was given was taken before it bound it."""


@contextmanager
def unused_port() -> Iterator[int]:
    """A port on 127.0.0.1 that nothing listens on while the block runs: it is held bound but not listening, so a
    connection to it is refused and no other process can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def listening(
    start: Callable[[int], subprocess.Popen[str]],
    ready: Callable[[subprocess.Popen[str], int], None],
    *,
    attempts: int = 5,
) -> tuple[subprocess.Popen[str], int]:
    """``start(port)`` a process that listens on ``port`` and wait until it is ``ready``; its process and port.

    The port is one the kernel just handed out, so another process rarely takes it between here and the process's
    own bind; when one does, the process exits saying so, and it is started again on another port."""
    for _ in range(attempts):
        with unused_port() as port:
            pass  # released here: the process binds it next
        process = start(port)
        try:
            ready(process, port)
        except PortTaken:
            process.wait(timeout=30)
            continue
        return process, port
    raise AssertionError(f"no free port in {attempts} attempts")


def port_taken(stderr: str) -> bool:
    """Whether a process that exited says its port was taken."""
    return any(sign in stderr.lower() for sign in _TAKEN)


def still_running(process: subprocess.Popen[str]) -> None:
    """Nothing, while ``process`` runs. Once it has exited: ``PortTaken`` when its port was taken (its standard
    error says so), else an ``AssertionError`` with its standard error."""
    if process.poll() is None:
        return
    err = process.stderr.read() if process.stderr else ""
    if port_taken(err):
        raise PortTaken(err)
    raise AssertionError(f"{process.args!r} exited with {process.returncode}: {err}")
