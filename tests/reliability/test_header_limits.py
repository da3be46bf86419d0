"""Oversized and slow headers (issue 13 item 1) and idle keep-alive connections, against the real server.

Before: uvicorn parsed with httptools, which bounds no header, and nothing bounded connections:
8 unfinished 40 MB headers took a worker from 187 to 541 MiB, and two 30 MB headers stalled `/healthz`
for 0.6 s. Now the h11 parser refuses a header block over HTTP_MAX_HEADER_BYTES, and every loop here
is bounded (bytes, clients, seconds), so a regression fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.service_process import ServiceProcess, running_service

pytestmark = pytest.mark.slow

ATTACKERS = 8
ATTACK_BYTES = 16 * 1024 * 1024  # each; 128 MiB in all, were they buffered
CHUNK = 64 * 1024
SLOW_CLIENTS = 20
ATTACK_S = 6.0  # no attacker runs longer than this, whatever the server does
MEMORY_GROWTH_MAX = 40 * 1024 * 1024
HEALTHZ_MAX_S = 0.5


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, any_database_url: str) -> Iterator[ServiceProcess]:
    settings = {"DATABASE_URL": any_database_url, "MODEL_PROVIDER": "offline"}
    with running_service(tmp_path_factory.mktemp("headers"), settings) as running:
        yield running


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def port_of(service: ServiceProcess) -> int:
    return int(service.base_url.rsplit(":", 1)[1])


def huge_header(port: int, stop: threading.Event) -> None:
    """An unfinished request whose one header grows by CHUNK until ATTACK_BYTES, the server hangs up, or time's up."""
    deadline = time.monotonic() + ATTACK_S
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ")
        sent = 0
        try:
            while sent < ATTACK_BYTES and time.monotonic() < deadline and not stop.is_set():
                sock.sendall(b"a" * CHUNK)
                sent += CHUNK
        except OSError:  # the server refused the header and closed: what should happen
            return


def slow_header(port: int, stop: threading.Event) -> None:
    """A client that trickles its headers a byte at a time and never finishes them."""
    deadline = time.monotonic() + ATTACK_S
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            while time.monotonic() < deadline and not stop.is_set():
                sock.sendall(b"X")
                time.sleep(0.05)
    except OSError:
        return


def test_huge_and_slow_headers_keep_memory_bounded_and_healthz_answering(service: ServiceProcess) -> None:
    port = port_of(service)
    with httpx.Client(base_url=service.base_url, timeout=5) as client:
        assert client.get("/healthz").status_code == 200
        baseline = rss_bytes(service.process.pid)
        stop = threading.Event()
        threads = [threading.Thread(target=huge_header, args=(port, stop), daemon=True) for _ in range(ATTACKERS)]
        threads += [threading.Thread(target=slow_header, args=(port, stop), daemon=True) for _ in range(SLOW_CLIENTS)]
        for thread in threads:
            thread.start()
        peak, slowest, answered = baseline, 0.0, 0
        try:
            deadline = time.monotonic() + ATTACK_S
            # While any attacker is at work (the slow ones trickle for ATTACK_S), and at least once.
            while time.monotonic() < deadline and (answered == 0 or any(t.is_alive() for t in threads)):
                started = time.monotonic()
                response = client.get("/healthz")
                slowest = max(slowest, time.monotonic() - started)
                answered += response.status_code == 200
                peak = max(peak, rss_bytes(service.process.pid))
                time.sleep(0.05)
            peak = max(peak, rss_bytes(service.process.pid))
        finally:
            stop.set()
            for thread in threads:
                thread.join(ATTACK_S)

        assert peak - baseline < MEMORY_GROWTH_MAX, f"RSS grew by {(peak - baseline) / 2**20:.0f} MiB"
        assert answered > 0 and slowest < HEALTHZ_MAX_S, (answered, slowest)

        # A header over the limit is refused outright, with the connection closed, not buffered.
        request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * (1024 * 1024) + b"\r\n\r\n"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            with contextlib.suppress(OSError):  # the server may hang up before it has read it all
                sock.sendall(request)
            try:
                reply = sock.recv(4096)
            except ConnectionResetError:  # refused with the unread rest of the header still in flight
                reply = b"HTTP/1.1 4xx (connection reset)"
        assert reply.startswith(b"HTTP/1.1 4"), reply[:100]
        assert client.get("/healthz").status_code == 200


HTTPX_KEEPALIVE_EXPIRY_S = 5.0  # httpx's default: how long a client keeps an idle connection


def test_an_idle_connection_outlives_the_clients_own_keep_alive(service: ServiceProcess) -> None:
    """The server keeps an idle connection longer than httpx (and load balancers) do, so the client closes it.

    With uvicorn's default of 5 s, the server closed idle connections as httpx was about to reuse them:
    under load, a request sent on one got a reset (`ReadError`, 4 of 800 requests at 300 clients).
    """
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port_of(service)), timeout=5) as sock:
        sock.sendall(request)
        assert response_head(sock).startswith(b"HTTP/1.1 200")
        time.sleep(HTTPX_KEEPALIVE_EXPIRY_S + 1)
        with contextlib.suppress(OSError):  # a connection the server closed may refuse the bytes
            sock.sendall(request)  # on the same connection, idle longer than httpx would keep it
        assert response_head(sock).startswith(b"HTTP/1.1 200")


def response_head(sock: socket.socket) -> bytes:
    """One whole response read off `sock` (its body consumed by Content-Length); its head, or b"" if closed."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            if not (chunk := sock.recv(4096)):
                return b""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length: *(\d+)", head)
        while length is not None and len(body) < int(length.group(1)):
            if not (chunk := sock.recv(4096)):
                return b""
            body += chunk
    except ConnectionResetError:
        return b""
    return head
