"""Run chat turns in a fresh process, the way the service starts, and report what happened.

    python -m tests.telemetry.turn_process [--tree] MESSAGE...

Telemetry is configured from this process's environment (`OTEL_*`), as in production. Prints one JSON
line: each turn's response and every non-loopback connection the process tried (refused here). With
`--tree`, also records the spans and prints each turn's trace as a tree (docs/observability.md shows one).
`DATABASE_URL` picks the database (migrated first); without it, a fresh SQLite file is used.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import socket
import sys
import tempfile
import uuid
from datetime import timedelta
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service.app import create_app
from service.auth import mint_token
from service.config import Settings
from service.migrate import upgrade_async
from tests.telemetry.trace_tree import render

SECRET = "turn-process-secret-that-is-long-enough-for-hs256"
outbound: list[str] = []


def _refuse_outbound() -> None:
    """Record and refuse any name lookup or connection that leaves the machine; loopback is fine."""
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not _loopback(str(host)):
            outbound.append(str(host))
            raise OSError(f"outbound connection to {host} refused by the test")
        connect(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not _loopback(str(name)):
            outbound.append(str(name))
            raise socket.gaierror(f"lookup of {name} refused by the test")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign, assignment]
    socket.getaddrinfo = guarded_getaddrinfo


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "")


async def main(messages: list[str], tree: bool) -> None:
    url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/trace.db"
    await upgrade_async(url)
    settings = Settings(_env_file=None, database_url=url, auth_jwt_secret=SECRET)
    app = create_app(settings)
    exporter = InMemorySpanExporter()
    if tree:
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    user = uuid.uuid4()
    headers = {"Authorization": f"Bearer {mint_token(settings, user, timedelta(minutes=5))}"}
    responses: list[dict[str, Any]] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            conversation_id = None
            for message in messages:
                body = {"message": message, "conversation_id": conversation_id}
                response = (await client.post(f"/api/{user}/chat", json=body, headers=headers)).json()
                conversation_id = response["conversation_id"]
                responses.append(response)
                if tree:
                    print(f"$ {message!r}\n{render(exporter.get_finished_spans())}\n")
                    exporter.clear()
    print(json.dumps({"responses": responses, "outbound": outbound}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="store_true", help="print each turn's trace as a tree")
    parser.add_argument("messages", nargs="+")
    args = parser.parse_args()
    _refuse_outbound()
    asyncio.run(main(args.messages, args.tree))
    sys.stdout.flush()
