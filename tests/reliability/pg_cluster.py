"""A private, throw-away PostgreSQL cluster that a test may stop and start at will.

The shared server on 5432 serves other tests and people, so a test that takes the database down
gets a cluster of its own: `initdb` in a temporary directory, a free loopback port, trust auth,
no fsync. PostgreSQL refuses to run as root, so as root every command runs as the `postgres` OS
user (`runuser`), in a directory that user owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.live_server import free_port

PG_OS_USER = "postgres"
COMMAND_TIMEOUT_S = 60.0


def _bin_dir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian's layout), or the ones on PATH."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    candidates = [*versions, *([Path(found).parent] if (found := shutil.which("initdb")) else [])]
    return next((d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()), None)


def unavailable_reason() -> str | None:
    """Why no private cluster can be made here, or None when it can."""
    if _bin_dir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without `runuser` to start PostgreSQL as another user"
        try:
            pwd.getpwnam(PG_OS_USER)
        except KeyError:
            return f"running as root and there is no `{PG_OS_USER}` OS user to run PostgreSQL"
    return None


@dataclass
class PrivateCluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    def _run(self, tool: str, *args: str) -> None:
        bin_dir = _bin_dir()
        assert bin_dir is not None
        command = [str(bin_dir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_OS_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start and wait until it accepts connections (`pg_ctl -w`)."""
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "start", "-w", "-D", str(self.data_dir), "-l", str(self.directory / "log"), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """`fast` is an administrator's ordinary stop: sessions are cut, open transactions roll back."""
        self._run("pg_ctl", "stop", "-w", "-D", str(self.data_dir), "-m", mode)

    def log_tail(self, lines: int = 20) -> str:
        path = self.directory / "log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A started cluster on a free loopback port; stopped and deleted afterwards, whatever happened."""
    directory = Path(tempfile.mkdtemp(prefix="todo-reliability-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(PG_OS_USER)
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    cluster = PrivateCluster(directory, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with suppress(RuntimeError, subprocess.TimeoutExpired):  # already stopped, or never started
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
