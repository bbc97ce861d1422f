"""Helpers for tests that start real servers on loopback: ports, `spamgate` processes, waiting."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = [
    "SPAMGATE",
    "Served",
    "can_connect",
    "free_port",
    "serve_with_login",
    "spamgate_process",
    "stop",
    "wait_until",
]

#: The ``spamgate`` command of the interpreter running the tests (the project's venv).
SPAMGATE = Path(sys.executable).with_name("spamgate")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the usual small race is fine for tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def can_connect(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def spamgate_process(
    args: Sequence[str],
    log: IO[bytes],
    *,
    env: Mapping[str, str] | None = None,
    log_level: str = "WARNING",
) -> subprocess.Popen[bytes]:
    """``spamgate ARGS`` as a child process writing to ``log`` (``env`` defaults to ours)."""
    environ = {**(os.environ if env is None else env), "SPAMGATE_LOG_LEVEL": log_level}
    return subprocess.Popen(
        [str(SPAMGATE), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=environ,
    )


def wait_until(
    what: str,
    ready: Callable[[], bool],
    proc: subprocess.Popen[bytes],
    timeout: float = 60.0,
    log: Path | None = None,
) -> None:
    """Poll ``ready`` until it is true; fail if ``proc`` exits first or ``timeout`` s pass
    (with the end of ``log``, when given, in the message)."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            why = "the process exited" if proc.poll() is not None else f"{timeout:.0f} s passed"
            tail = log.read_text("utf-8", "replace")[-2000:] if log is not None else ""
            raise AssertionError(f"{what}: {why} before it was ready\n{tail}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` s."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


@dataclass(frozen=True)
class Served:
    """A running ``spamgate serve`` (see :func:`serve_with_login`)."""

    proc: subprocess.Popen[bytes]
    http_port: int
    smpp_port: int
    log: Path


def serve_with_login(
    tmp_path: Path,
    password: str,
    *,
    smpp: str = "",
    env: Mapping[str, str] | None = None,
    log_level: str = "WARNING",
    timeout: float = 30.0,
) -> Served:
    """``spamgate serve`` on free HTTP and SMPP ports with its data dir under ``tmp_path``, the
    static SMPP login ``reseller``/``password`` and ``smpp`` (lines of the ``[smpp]`` table) in
    its config; returns once SMPP accepts connections (stopped again if it never does)."""
    from spamgate.smpp.auth import hash_password

    hashed = hash_password(password, time_cost=1, memory_kib=8, parallelism=1)
    config = tmp_path / "spamgate.toml"
    config.write_text(
        f'[smpp]\n{smpp}\n\n[smpp.accounts.reseller]\npassword_hash = "{hashed}"\n', "utf-8"
    )
    http_port, smpp_port = free_port(), free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:  # the child keeps its own descriptor
        proc = spamgate_process(
            ["serve", "--http-port", str(http_port), "--smpp-port", str(smpp_port),
             "--data-dir", str(tmp_path / "var"), "--config", str(config)],
            log, env=env, log_level=log_level,
        )  # fmt: skip
    try:
        wait_until("spamgate serve", lambda: can_connect(smpp_port), proc, timeout, log_path)
    except BaseException:
        stop(proc)
        raise
    return Served(proc, http_port, smpp_port, log_path)
