"""`spamgate serve` as a real process: it starts, answers, and stops cleanly."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from net_support import free_port, spamgate_process, stop, wait_until


def test_serve_answers_healthz_and_check(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    args = ["serve", "--http-port", str(port), "--smpp-port", "0"]
    proc = spamgate_process([*args, "--data-dir", str(tmp_path / "var")], log)
    base = f"http://127.0.0.1:{port}"
    health: dict[str, object] = {}

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
                health.update(json.load(resp))
            return True
        except OSError:
            return False

    try:
        wait_until("spamgate serve", healthy, proc, 30, log_path)
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
        stop(proc)
        log.close()
    assert b"Traceback" not in (tmp_path / "serve.log").read_bytes()
