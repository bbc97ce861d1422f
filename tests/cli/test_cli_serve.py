"""`spamgate serve` as a real process: it starts, answers, and stops cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from net_support import free_port


def test_serve_answers_healthz_and_check(tmp_path: Path) -> None:
    port = free_port()
    exe = Path(sys.executable).with_name("spamgate")
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            str(exe),
            "serve",
            "--http-port",
            str(port),
            "--smpp-port",
            "0",
            "--data-dir",
            str(tmp_path / "var"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SPAMGATE_LOG_LEVEL": "WARNING"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                    health = json.load(resp)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert health["status"] == "ok"
        request = urllib.request.Request(
            f"{base}/api/v1/check",
            data=json.dumps({"text": "첫충 20% 바카라 카지노 bit.ly/abc"}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:
            verdict = json.load(resp)
        assert verdict["action"] == "reject"
        assert (tmp_path / "var").is_dir()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    assert b"Traceback" not in (tmp_path / "serve.log").read_bytes()
