"""The real service as a user deploys it: `python -m service serve --workers N` in a process of its own.

The reliability tests need what only a real deployment has: several uvicorn worker processes sharing
one listening socket, and a database connection pool that outlives a database restart. In-process
ASGI apps have neither. The service gets a clean environment (only the settings a test gives it, so
a developer's `OPENAI_API_KEY` or `OTEL_*` cannot change what is tested) and runs in a session of its
own, so stopping it also stops every worker it spawned, whatever state the test left it in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from service.auth import mint_token
from service.config import Settings
from tests.live_server import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "reliability-secret-that-is-long-enough-for-hs256"
READY_TIMEOUT_S = 90.0  # two workers importing the SDK on a busy 2-CPU machine took up to ~26 s
STOP_TIMEOUT_S = 15.0
STARTED = "Application startup complete."
# The variables that would otherwise leak from the test's environment into the service's behaviour.
_LEAKY_PREFIXES = ("OTEL_", "OPENAI_")


def auth_headers(user_id: uuid.UUID) -> dict[str, str]:
    """Headers a service started here accepts for `user_id`: a token signed with `SECRET`."""
    settings = Settings(_env_file=None, auth_jwt_secret=SECRET)
    return {"Authorization": f"Bearer {mint_token(settings, user_id, timedelta(minutes=30))}"}


def _clean_environment() -> dict[str, str]:
    """The test process's environment minus every service setting, so only what a test sets applies."""
    settings = {name.upper() for name in Settings.model_fields}
    return {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in settings and not name.upper().startswith(_LEAKY_PREFIXES)
    }


@dataclass
class ServiceProcess:
    """A running `python -m service serve`, its base URL and its log."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    workers: int

    def auth(self, user_id: uuid.UUID) -> dict[str, str]:
        return auth_headers(user_id)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _started_workers(self) -> int:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text.count(STARTED)

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until `/readyz` answers 200 and every worker has finished its start-up (so all can take traffic)."""
        deadline = time.monotonic() + timeout_s
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the service exited with {self.process.returncode}:\n{self.log_tail()}")
                try:
                    ready = client.get("/readyz").status_code == 200
                except httpx.TransportError:
                    ready = False
                if ready and self._started_workers() >= self.workers:
                    return
                time.sleep(0.1)
        raise TimeoutError(f"the service was not ready within {timeout_s} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes: the children of the supervisor that uvicorn spawned to serve."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:  # gone meanwhile
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            # multiprocessing's resource tracker is a child too; only spawned workers run `spawn_main`.
            if parent == self.process.pid and b"spawn_main" in cmdline:
                pids.append(int(entry.name))
        return sorted(pids)

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown); then SIGKILL to the whole session if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT_S)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # workers left behind by a killed supervisor
        self.process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_service(log_dir: Path, settings: dict[str, str], workers: int = 1) -> Iterator[ServiceProcess]:
    """`python -m service serve --workers N` on a free loopback port, ready; always stopped afterwards.

    `settings` are the service's environment variables (DATABASE_URL, MODEL_PROVIDER, ...); the host,
    port and JWT secret are set here, and the chat rate limit is off unless given: these tests send far
    more turns per user and minute than a person would.
    """
    port = free_port()
    environment = {
        **_clean_environment(),
        "ENV": "dev",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "AUTH_JWT_SECRET": SECRET,
        "RATE_LIMIT_CHAT_PER_MINUTE": "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        **settings,
    }
    log_path = log_dir / f"service-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--workers", str(workers)],
            cwd=log_dir,  # not the repository: a developer's `.env` there must not apply
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = ServiceProcess(process, f"http://127.0.0.1:{port}", log_path, workers)
    try:
        service.wait_ready()
        yield service
    finally:
        service.stop()
