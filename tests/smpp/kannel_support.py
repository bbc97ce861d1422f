"""A real SMPP peer for tests: Kannel (Debian's ``kannel``) bound to a running ``spamgate serve``.

``kannel_binaries()`` finds bearerbox and smsbox (Debian puts them in /usr/sbin, often not on a
user's PATH). ``Gateway`` runs ``spamgate serve`` as a subprocess on free loopback ports with a temp
data dir and SMPP logins of our choosing, and reads its Prometheus counters. ``Kannel`` writes a
kannel.conf (core, an ``smsc = smpp`` group pointed at the gateway, smsbox, one sendsms-user),
starts bearerbox (and smsbox), waits until the status page says the SMSC is online, sends messages
through smsbox's ``/cgi-bin/sendsms`` and reads the delivery reports Kannel posts back to a small
HTTP listener of ours (``DlrSink``). ``SimSmsc`` is ``spamgate sim smsc``, the carrier behind the
gateway. Every process started here is stopped in a ``finally``.

Everything listens on and connects to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Container, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from prometheus_client.parser import text_string_to_metric_families

from net_support import can_connect, free_port, stop
from spamgate.smpp.auth import hash_password

__all__ = [
    "Dlr",
    "DlrSink",
    "Gateway",
    "Kannel",
    "KannelConfig",
    "KannelError",
    "SimSmsc",
    "kannel_binaries",
    "read_spool",
    "running",
    "wait_for",
]

HOST = "127.0.0.1"
ADMIN_PASSWORD = "admin-pw"
SENDSMS_USER = "tester"
SENDSMS_PASSWORD = "tester-pw"
#: An SMSC line of Kannel's status.txt; its state word is online (bound), connecting,
#: re-connecting, disconnected or dead (given up, e.g. after ESME_RINVPASWD).
_SMSC_LINE = re.compile(r"^\s*(?P<id>\S+?)\[(?P<admin_id>[^\]]*)\]\s+SMPP:.*?\((?P<state>[\w-]+)")


class KannelError(RuntimeError):
    """Kannel (or the gateway under it) did not get to where a test needs it."""


def kannel_binaries() -> tuple[Path, Path] | None:
    """(bearerbox, smsbox), or None when Kannel is not installed."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    bearerbox, smsbox = shutil.which("bearerbox", path=search), shutil.which("smsbox", path=search)
    if bearerbox is None or smsbox is None:
        return None
    return Path(bearerbox), Path(smsbox)


def wait_for(
    what: str, ready: Callable[[], bool], timeout: float, *, alive: Callable[[], bool]
) -> None:
    """Poll ``ready`` until true; raise ``KannelError`` on timeout or when ``alive`` turns false."""
    deadline = time.monotonic() + timeout
    while not ready():
        if not alive():
            raise KannelError(f"{what}: a process exited before it was ready")
        if time.monotonic() > deadline:
            raise KannelError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(0.1)


def _http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as page:
            return int(page.status), page.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _spamgate(args: list[str], log: IO[bytes], log_level: str = "INFO") -> subprocess.Popen[bytes]:
    """Run the ``spamgate`` of this venv with ``args``; none of the caller's SPAMGATE_* settings
    (a database URL, a config) leak in, so the process sees only what the test gives it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMGATE_")}
    env["SPAMGATE_LOG_LEVEL"] = log_level
    exe = Path(sys.executable).with_name("spamgate")
    return subprocess.Popen(
        [str(exe), *args], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
    )


# -- delivery reports ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dlr:
    """One delivery report Kannel posted to ``DlrSink`` (its dlr-url query, decoded)."""

    tag: str  # which send it belongs to (our own id, in the dlr-url)
    type: int  # Kannel's DLR type: 1 delivered, 2 failed, 4 buffered, 8 smsc ack, 16 smsc reject
    reply: str  # %A: Kannel's smsc reply, e.g. "NACK/0x00000045/Message submit failed"


class DlrSink:
    """An HTTP listener on loopback that collects the delivery reports Kannel GETs from it."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Dlr] = queue.Queue()
        self._seen: list[Dlr] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                try:
                    dlr = Dlr(query["tag"][0], int(query["type"][0]), query.get("reply", [""])[0])
                except (KeyError, ValueError):
                    self.send_response(400)
                else:
                    sink._queue.put(dlr)
                    self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep pytest's output clean

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def url(self, tag: str) -> str:
        """The dlr-url for one send: Kannel fills in %d (type) and %A (its smsc reply)."""
        return f"http://{HOST}:{self.port}/dlr?tag={urllib.parse.quote(tag)}&type=%d&reply=%A"

    def wait(self, tag: str, *, types: Container[int] | None = None, timeout: float = 15.0) -> Dlr:
        """The first report for ``tag`` (of one of ``types``, if given).

        A submit's first report is 8 (smsc ack) or 16 (smsc reject); a receipt comes later.
        """
        deadline = time.monotonic() + timeout
        while True:
            for dlr in self._seen:
                if dlr.tag == tag and (types is None or dlr.type in types):
                    return dlr
            left = deadline - time.monotonic()
            if left <= 0:
                raise KannelError(f"no delivery report for {tag!r} within {timeout:.0f} s")
            try:
                self._seen.append(self._queue.get(timeout=left))
            except queue.Empty:
                continue

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# -- the gateway --------------------------------------------------------------------------------


def read_spool(path: Path) -> list[dict[str, Any]]:
    """The ``msg`` records of the gateway's write-ahead spool, read-only (see smpp/spool.py).

    A record is ``length (4, big-endian) | crc32 (4) | JSON``; a tail still being written is left
    out. Only reading: opening a ``SpoolForwarder`` here could cut the live file's tail.
    """
    data = path.read_bytes() if path.exists() else b""
    records, pos = [], 0
    while pos + 8 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        if pos + 8 + length > len(data):
            break
        record = json.loads(data[pos + 8 : pos + 8 + length])
        if record.get("t") == "msg":
            records.append(record)
        pos += 8 + length
    return records


class Gateway:
    """``spamgate serve`` in a subprocess with the SMPP ``logins`` given (system_id → password)."""

    def __init__(
        self,
        workdir: Path,
        logins: Mapping[str, str],
        *,
        upstream: str | None = None,
        log_level: str = "INFO",
    ) -> None:
        self.workdir = workdir
        self.log_level = log_level
        self.upstream = upstream  # [SYSTEM_ID@]HOST:PORT of a carrier SMSC (e.g. ``SimSmsc``)
        self.http_port, self.smpp_port = free_port(), free_port()
        self.log_path = workdir / "spamgate.log"
        lines = []
        for system_id, password in logins.items():
            hashed = hash_password(password, time_cost=1, memory_kib=8, parallelism=1)
            lines += [f"[smpp.accounts.{system_id}]", f'password_hash = "{hashed}"']
        self.config = workdir / "spamgate.toml"
        self.config.write_text("\n".join(lines) + "\n", "utf-8")
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        self._log = self.log_path.open("wb")
        args = [
            "serve", "--http-host", HOST, "--http-port", str(self.http_port),
            "--smpp-host", HOST, "--smpp-port", str(self.smpp_port),
            "--data-dir", str(self.workdir / "var"), "--config", str(self.config),
        ]  # fmt: skip
        if self.upstream is not None:
            args += ["--upstream", self.upstream]
        self._proc = _spamgate(args, self._log, log_level=self.log_level)
        wait_for(
            "spamgate serve",
            lambda: can_connect(self.smpp_port) and can_connect(self.http_port),
            timeout,
            alive=self.alive,
        )

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        try:
            if self._proc is not None:
                stop(self._proc, grace=15.0)
        finally:
            if self._log is not None:
                self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def spooled(self) -> list[dict[str, Any]]:
        """The messages the gateway accepted so far, as its spool holds them."""
        return read_spool(self.workdir / "var" / "spool" / "smpp.wal")

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """Every sample of /metrics: (name, labels) → value."""
        status, body = _http_get(f"http://{HOST}:{self.http_port}/metrics")
        if status != 200:
            raise KannelError(f"/metrics answered {status}")
        return {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }

    def counter(self, name: str, **labels: str) -> float:
        """The sum of ``name`` over the samples whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(
            value
            for (sample, sample_labels), value in self.metrics().items()
            if sample == name and wanted <= sample_labels
        )


class SimSmsc:
    """``spamgate sim smsc`` in a subprocess: the carrier side, acking and sending receipts."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = (self.workdir / "sim-smsc.log").open("wb")
        self._proc = _spamgate(["sim", "smsc", "--host", HOST, "--port", str(self.port)], self._log)
        wait_for("sim smsc", lambda: can_connect(self.port), timeout, alive=self.alive)

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        try:
            if self._proc is not None:
                stop(self._proc, grace=5.0)
        finally:
            if self._log is not None:
                self._log.close()


# -- Kannel -------------------------------------------------------------------------------------


@dataclass(slots=True)
class KannelConfig:
    """What goes into kannel.conf besides ports and paths."""

    username: str
    password: str
    smsc_id: str = "spamgate"
    enquire_link_interval: int = 30  # Kannel's default
    #: What Kannel converts data_coding 0 texts to. Useless for Korean in Kannel 1.4.5: its
    #: splitter (gw/sms.c) has already turned every non-GSM character into '?' by then.
    alt_charset: str | None = None
    with_smsbox: bool = True  # start smsbox (sendsms); a bind test needs bearerbox only
    extra_smsc: dict[str, str] = field(default_factory=dict)


def _conf_group(name: str, values: Mapping[str, str | int | bool]) -> str:
    lines = [f"group = {name}"]
    for key, value in values.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, str) and not value.isdigit() and value not in ("true", "false"):
            value = f'"{value}"'
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


class Kannel:
    """bearerbox (+ smsbox) with one ``smsc = smpp`` link to ``gateway_port``, in ``workdir``."""

    def __init__(self, workdir: Path, gateway_port: int, config: KannelConfig) -> None:
        binaries = kannel_binaries()
        if binaries is None:
            raise KannelError("Kannel (bearerbox, smsbox) is not installed")
        self.bearerbox_bin, self.smsbox_bin = binaries
        self.workdir = workdir
        self.config = config
        self.admin_port, self.smsbox_port, self.sendsms_port = (free_port() for _ in range(3))
        workdir.mkdir(parents=True, exist_ok=True)
        self.conf_path = workdir / "kannel.conf"
        self.conf_path.write_text(self._conf(gateway_port), "utf-8")
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    def _conf(self, gateway_port: int) -> str:
        cfg = self.config
        core: dict[str, str | int | bool] = {
            "admin-port": self.admin_port,
            "admin-interface": HOST,
            "admin-password": ADMIN_PASSWORD,
            "admin-allow-ip": HOST,
            # bearerbox wants the smsbox port and group even when no smsbox is started
            "smsbox-port": self.smsbox_port,
            "smsbox-interface": HOST,
            "box-allow-ip": HOST,
            "log-file": str(self.workdir / "bearerbox.log"),
            "log-level": 0,  # debug: the PDU dumps are what a test failure needs
            "access-log": str(self.workdir / "access.log"),
            "store-type": "file",
            "store-location": str(self.workdir / "kannel.store"),
            "dlr-storage": "internal",
        }
        smsc: dict[str, str | int | bool] = {
            "smsc": "smpp",
            "smsc-id": cfg.smsc_id,
            "host": HOST,
            "port": gateway_port,
            "transceiver-mode": True,
            "smsc-username": cfg.username,
            "smsc-password": cfg.password,
            "system-type": "",
            "reconnect-delay": 1,
            "enquire-link-interval": cfg.enquire_link_interval,
            "max-pending-submits": 10,
        }
        if cfg.alt_charset is not None:
            smsc["alt-charset"] = cfg.alt_charset
        smsc.update(cfg.extra_smsc)
        smsbox: dict[str, str | int | bool] = {
            "bearerbox-host": HOST,
            "bearerbox-port": self.smsbox_port,
            "sendsms-port": self.sendsms_port,
            "sendsms-interface": HOST,
            "log-file": str(self.workdir / "smsbox.log"),
            "log-level": 0,
        }
        user: dict[str, str | int | bool] = {
            "username": SENDSMS_USER,
            "password": SENDSMS_PASSWORD,
            "concatenation": True,  # long texts: split, with a concatenation UDH
            "max-messages": 10,
            "user-allow-ip": HOST,
        }
        groups = [("core", core), ("smsc", smsc), ("smsbox", smsbox), ("sendsms-user", user)]
        return "\n".join(_conf_group(name, values) for name, values in groups)

    # -- processes ------------------------------------------------------------------------------

    def _spawn(self, binary: Path, name: str) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.out").open("wb")
        self._logs.append(log)
        proc = subprocess.Popen(
            [str(binary), str(self.conf_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
        )
        self._procs.append(proc)
        return proc

    def start(self, *, wait_online: bool = True, timeout: float = 20.0) -> None:
        """Start bearerbox (and smsbox); with ``wait_online`` wait until the SMSC link is bound."""
        try:
            self._start(wait_online, timeout)
        except KannelError as exc:
            raise KannelError(f"{exc}; Kannel said:\n{self._complaints()}") from None

    def _complaints(self) -> str:
        """The last error lines of the boxes' output (why one exited or never got online)."""
        lines = []
        for name in ("bearerbox", "smsbox"):
            out = self.workdir / f"{name}.out"
            if out.exists():
                text = out.read_text("utf-8", "replace").splitlines()
                lines += [f"{name}: {line}" for line in text if "ERROR" in line][-5:]
        return "\n".join(lines) or "(nothing)"

    def _start(self, wait_online: bool, timeout: float) -> None:
        self._spawn(self.bearerbox_bin, "bearerbox")
        wait_for("bearerbox admin", lambda: can_connect(self.admin_port), timeout, alive=self.alive)
        if self.config.with_smsbox:
            self._spawn(self.smsbox_bin, "smsbox")
            wait_for(
                "smsbox sendsms", lambda: can_connect(self.sendsms_port), timeout, alive=self.alive
            )
        if wait_online:
            wait_for(
                "Kannel SMSC online",
                lambda: self.smsc_state() == "online",
                timeout,
                alive=self.alive,
            )

    def alive(self) -> bool:
        return all(proc.poll() is None for proc in self._procs)

    def stopped(self) -> bool:
        """Every box this object started has exited (and been reaped)."""
        return all(proc.returncode is not None for proc in self._procs)

    def stop(self) -> None:
        """smsbox first, then bearerbox; each killed if it does not leave in time."""
        try:
            for proc in reversed(self._procs):
                stop(proc, grace=5.0)
        finally:
            for log in self._logs:
                log.close()

    # -- what Kannel says -----------------------------------------------------------------------

    def status_text(self) -> str:
        status, body = _http_get(
            f"http://{HOST}:{self.admin_port}/status.txt?password={ADMIN_PASSWORD}"
        )
        if status != 200:
            raise KannelError(f"Kannel status page answered {status}")
        return body

    def smsc_state(self) -> str | None:
        """Our SMSC link's state word on the status page: online, connecting, re-connecting, dead…"""
        try:
            body = self.status_text()
        except (OSError, KannelError):
            return None
        for line in body.splitlines():
            match = _SMSC_LINE.match(line)
            if match and match["id"] == self.config.smsc_id:
                return match["state"]
        return None

    def log_text(self, name: str = "bearerbox") -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def send_sms(
        self,
        text: str,
        *,
        dlr_url: str,
        to: str = "01098765432",
        sender: str = "0212345678",
        coding: int | None = None,
        charset: str = "UTF-8",
    ) -> tuple[int, str]:
        """One sendsms GET, ``text`` sent in ``charset``; returns smsbox's (status, body)."""
        params: dict[str, str | int | bytes] = {
            "username": SENDSMS_USER,
            "password": SENDSMS_PASSWORD,
            "from": sender,
            "to": to,
            "text": text.encode(charset),
            "charset": charset,
            "smsc": self.config.smsc_id,
            "dlr-mask": 31,  # delivered, failed, buffered, smsc ack, smsc reject
            "dlr-url": dlr_url,
        }
        if coding is not None:
            params["coding"] = coding
        query = urllib.parse.urlencode(params)
        return _http_get(f"http://{HOST}:{self.sendsms_port}/cgi-bin/sendsms?{query}")


@contextmanager
def running(*things: Gateway | Kannel | SimSmsc | DlrSink) -> Iterator[None]:
    """Stop ``things`` (in reverse order) however the block ends."""
    with ExitStack() as stack:
        for thing in things:
            stack.callback(thing.close if isinstance(thing, DlrSink) else thing.stop)
        yield
