"""Servers in processes of their own: started, waited for, measured (CPU, peak RSS) and stopped.

Each server runs in a session of its own with a clean environment (only what the benchmark sets: a
developer's `OPENAI_API_KEY`, `OTEL_*` or `.env` never applies), so stopping it stops its workers too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTED = "Application startup complete."
READY_TIMEOUT_S = 90.0
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_SERVICE_PREFIXES = ("OTEL_", "OPENAI_", "AUTH_", "DATABASE_", "MODEL_", "AGENT_", "RATE_LIMIT_", "BENCH_")
_SERVICE_NAMES = {"ENV", "HOST", "PORT", "MIGRATE_ON_START", "MAX_REQUEST_BYTES", "CONVERSATION_LOCK_TIMEOUT_S"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in _SERVICE_NAMES and not name.upper().startswith(_SERVICE_PREFIXES)
    }


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        if (fields := _stat(pid)) is not None:
            total += int(fields[11]) + int(fields[12])
    return total / _CLK_TCK


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def postgres_backends(database: str) -> list[int]:
    """The PostgreSQL server processes serving connections to `database` (their titles name it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pids.append(int(entry.name))
    return pids


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    workers: int

    def pids(self) -> list[int]:
        """The processes that serve: the workers, or the one process when there are none."""
        workers = [pid for pid in children(self.process.pid) if b"spawn_main" in _cmdline(pid)]
        return workers or [self.process.pid]

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
                started = self.log_path.read_text(errors="replace").count(STARTED)
                if started >= self.workers:
                    try:
                        if client.get(path).status_code < 500:
                            return
                    except httpx.TransportError:
                        pass
                time.sleep(0.1)
        raise TimeoutError(f"{self.name} was not ready within {READY_TIMEOUT_S} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def start_server(
    app: str, *, env: dict[str, str], workers: int, log_dir: Path, ready_path: str, name: str | None = None
) -> Server:
    port = free_port()
    environment = {
        **clean_environment(),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        **env,
    }
    name = name or app
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.serve", app, "--port", str(port), "--workers", str(workers)],
            cwd=log_dir,  # not the repository: its `.env` must not apply
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log_path, workers)
    try:
        server.wait_ready(ready_path)
    except BaseException:
        server.stop()
        raise
    return server
