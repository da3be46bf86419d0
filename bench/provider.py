"""The provider rows of `make bench`: a model that takes `delay` seconds a call, reached over real HTTP.

Users run the service against a hosted model with many conversations in flight; the instant rows never
exercise that path (the OpenAI client, the provider-call instrumentation, the fallback wrapper, many
turns waiting at once). These rows do, with `bench.fake_provider` in a process of its own:

- **SDK floor through the provider**: a bare `Runner.run` (and `Runner.run_streamed`) in this process,
  `OpenAIChatCompletionsModel` on an `AsyncOpenAI` client pointed at the fake provider, the real tools
  on the same database, no memory, no tracing, no HTTP in front;
- **ours over HTTP**: `POST /chat` and `POST /chat/stream`, one worker (as `make run` starts it),
  tracing on, new-conversation turns ("add buy milk"), each client a user of its own, at each
  concurrency of `CONCURRENCIES`, with the in-flight limit set to `INFLIGHT_LIMIT`. As with real users,
  a client's later turns come from a user the worker has met (a user's first turn on a worker also
  records the user: `ensure_user`, one transaction); the warm-up gives every client its first turn.

Each row is a closed loop of `c` clients, started one after another over one turn's model time
(`2 * delay`) rather than all at once, which would keep them in step with every turn's steps arriving in
one wave: a warm-up, then a window of `window_s` seconds in which turns, latencies and the server's CPU
are counted, then the requests still in flight are waited for (each must be answered, with at most
`ANSWER_BOUND_S` of latency). A turn counts for the share of its lifetime inside the window
(`Window.worked`); latencies are those of the turns ending in it. Ideal turns/s is `c / (2 * delay)`:
two model calls a turn and nothing else. After each row of ours, the database is checked: every turn
stored has exactly its four items (message, call, output, answer), and as many turns are stored as were
answered 200.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench import data
from bench.procs import REPO_ROOT, Server, clean_environment, cpu_seconds, free_port, peak_rss_mib

DELAY_S = 1.0
CONCURRENCIES = (10, 100, 300)
FLOOR_CONCURRENCIES = (10, 100)
USERS = max(CONCURRENCIES)  # one a client
INFLIGHT_LIMIT = 100  # AGENT_MAX_INFLIGHT_TURNS for the rows: the default of service/config.py
ANSWER_BOUND_S = 30.0
MAX_RETRY_AFTER_S = 5.0  # the longest a client honours a Retry-After for
CLIENT_TIMEOUT_S = 60.0  # longer than the bound, so a late answer is seen late instead of cut off
MESSAGE = data.CHAT_MESSAGE


def start_spread_s(delay_s: float) -> float:
    """Over how long a row's clients start, the floor's and ours: one turn's model time (module doc)."""
    return 2 * delay_s


@dataclass
class Outcome:
    done_at: float
    latency_s: float
    status: int
    retry_after: bool
    complete: bool  # a 200 whose body is the whole turn (`done` event, for a stream)
    error: str = ""  # the client's exception, when no response came


@dataclass
class Window:
    """What the clients saw: every request, and the counting window's bounds."""

    concurrency: int
    started: float = 0.0
    window_start: float = 0.0
    window_end: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)

    def in_window(self) -> list[Outcome]:
        return [o for o in self.outcomes if self.window_start <= o.done_at < self.window_end]

    def worked(self) -> float:
        """Turns answered whole, each counted by the share of its lifetime inside the window.

        Counting the turns that *end* in the window is off by up to one turn per client when the clients
        run in step: with 10 clients and 2.2 s turns an 8 s window holds 3 or 4 endings per client while
        3.6 turns' work is done in it. CPU a turn and turns/s divide by this.
        """
        total = 0.0
        for o in self.outcomes:
            if o.status == 200 and o.complete and o.latency_s > 0:
                inside = min(o.done_at, self.window_end) - max(o.done_at - o.latency_s, self.window_start)
                total += max(0.0, inside) / o.latency_s
        return total

    def summary(self, delay_s: float) -> dict[str, Any]:
        seen = self.in_window()
        ok = [o for o in seen if o.status == 200 and o.complete]
        span = self.window_end - self.window_start
        latencies = sorted(o.latency_s for o in ok) or [0.0]
        cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
        ideal = self.concurrency / (2 * delay_s)
        per_s = self.worked() / span
        everything = self.outcomes
        rejected = [o for o in everything if o.status in (429, 503)]
        return {
            "concurrency": self.concurrency,
            "per_s": round(per_s, 1),
            "ideal_per_s": round(ideal, 1),
            "of_ideal": round(per_s / ideal, 3),
            "ended_in_window_per_s": round(len(ok) / span, 1),  # the estimate before 2026-12-07
            "p50_ms": round(cuts[49] * 1000, 1),
            "p99_ms": round(cuts[98] * 1000, 1),
            "requests": len(everything),
            "answered_200": sum(o.status == 200 and o.complete for o in everything),
            "rejected": len(rejected),
            "rejected_with_retry_after": sum(o.retry_after for o in rejected),
            "rejected_per_s": round(sum(o.status in (429, 503) for o in seen) / span, 1),
            "client_errors": sorted({o.error for o in everything if o.error}),
            "other_failures": sum(
                o.status not in (200, 429, 503) or (o.status == 200 and not o.complete) for o in everything
            ),
            "max_latency_s": round(max((o.latency_s for o in everything), default=0.0), 2),
            "over_bound": sum(o.latency_s > ANSWER_BOUND_S for o in everything),
        }


async def drive(
    base_url: str,
    targets: list[data.Target],
    *,
    concurrency: int,
    warm_s: float,
    window_s: float,
    stream: bool,
    ramp_s: float = 0.0,
    on_window: Any = None,
) -> Window:
    """`concurrency` clients, each sending its next turn when the last one was answered; see the module doc.

    Each client has a connection of its own, as separate users do. One pool shared by 300 clients cost the
    benchmark process most of a core (httpcore matches every waiting request against every connection),
    which showed up as the service's latency. A client refused with `Retry-After` waits that long before
    its next turn, as a well-behaved client does (docs/performance.md: what clients that do not wait do).
    """
    window = Window(concurrency)
    window.started = time.perf_counter()
    window.window_start = window.started + warm_s
    window.window_end = window.window_start + window_s

    async def one(client: httpx.AsyncClient, target: data.Target) -> float:
        """Sends the turn; the seconds the answer asks to wait before the next one (`Retry-After`)."""
        headers = {"Authorization": f"Bearer {target.token}", "Content-Type": "application/json"}
        sent = time.perf_counter()
        status, wait, complete, error = 0, "", False, ""
        try:
            if stream:
                async with client.stream("POST", target.path, headers=headers, content=target.body) as response:
                    status, wait = response.status_code, response.headers.get("retry-after", "")
                    body = (await response.aread()).decode()
                    complete = status == 200 and "event: done\n" in body and "event: error\n" not in body
            else:
                response = await client.post(target.path, headers=headers, content=target.body)
                status, wait = response.status_code, response.headers.get("retry-after", "")
                complete = status == 200 and '"message_id"' in response.text
        except httpx.HTTPError as exc:
            status, error = -1, type(exc).__name__
        now = time.perf_counter()
        window.outcomes.append(Outcome(now, now - sent, status, bool(wait), complete, error))
        return min(float(wait), MAX_RETRY_AFTER_S) if wait.isdigit() else 0.0

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()  # made once: each client making its own took 26 ms, 8 s for 300

    async def client_loop(index: int) -> None:
        await asyncio.sleep(ramp_s * index / concurrency)
        target = targets[index % len(targets)]  # a client is one user, as a person chatting is
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=CLIENT_TIMEOUT_S, verify=tls) as client:
            while time.perf_counter() < window.window_end:
                wait = await one(client, target)
                await asyncio.sleep(wait)

    async def at_window_edges() -> None:
        if on_window is None:
            return
        await asyncio.sleep(max(0.0, window.window_start - time.perf_counter()))
        on_window("start")
        await asyncio.sleep(max(0.0, window.window_end - time.perf_counter()))
        on_window("end")

    await asyncio.gather(at_window_edges(), *(client_loop(i) for i in range(concurrency)))
    return window


# ------------------------------------------------------------------------------------------------
# Processes
# ------------------------------------------------------------------------------------------------


@contextmanager
def fake_provider(log_dir: Path, delay_s: float) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**clean_environment(), "PYTHONPATH": str(REPO_ROOT)}
    with (log_dir / f"fake-provider-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_provider", "--port", str(port), "--delay", str(delay_s)],
            cwd=log_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}/v1"
    server = Server("fake provider", process, base, log_dir / f"fake-provider-{port}.log", 1)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/models", timeout=1.0)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the fake provider did not start:\n{server.log_tail()}") from None
                time.sleep(0.1)
        yield base, process
    finally:
        server.stop()


def openai_model(base_url: str) -> Any:
    import openai

    from agents import OpenAIChatCompletionsModel

    client = openai.AsyncOpenAI(api_key="unused", base_url=base_url, max_retries=0, timeout=CLIENT_TIMEOUT_S)
    return OpenAIChatCompletionsModel(model="fake-provider", openai_client=client)


# ------------------------------------------------------------------------------------------------
# The floor: bare Runner.run through the provider, in this process
# ------------------------------------------------------------------------------------------------


async def floor_window(
    url: str, provider_url: str, user_id: uuid.UUID, *, concurrency: int, delay_s: float, window_s: float, stream: bool
) -> dict[str, Any]:
    from agents import RunConfig, Runner
    from bench.apps import plain_agent
    from bench.inprocess import _context
    from service.db import Database

    database = Database(url)
    agent = plain_agent()
    model = openai_model(provider_url)
    run_config = RunConfig(model=model, tracing_disabled=True)
    window = Window(concurrency)
    cpu: dict[str, float] = {}
    window.started = time.perf_counter()
    window.window_start = window.started + 2 * delay_s + 1
    window.window_end = window.window_start + window_s

    async def turn() -> None:
        sent = time.perf_counter()
        status = 200
        try:
            if stream:
                result = Runner.run_streamed(agent, MESSAGE, context=_context(database, user_id), run_config=run_config)
                async for _ in result.stream_events():
                    pass
            else:
                await Runner.run(agent, MESSAGE, context=_context(database, user_id), run_config=run_config)
        except Exception:  # counted (`other_failures`), not fatal: one dropped connection must not end the run
            status = -1
        now = time.perf_counter()
        window.outcomes.append(Outcome(now, now - sent, status, False, status == 200))

    async def client_loop(index: int) -> None:
        await asyncio.sleep(start_spread_s(delay_s) * index / concurrency)
        while time.perf_counter() < window.window_end:
            await turn()

    async def edges() -> None:
        await asyncio.sleep(window.window_start - time.perf_counter())
        cpu["start"] = time.process_time()
        await asyncio.sleep(window.window_end - time.perf_counter())
        cpu["end"] = time.process_time()

    try:
        await asyncio.gather(edges(), *(client_loop(i) for i in range(concurrency)))
    finally:
        await model._client.close()  # in this loop: closed later, by the collector, it would find no loop
        await database.dispose()
    summary = window.summary(delay_s)
    summary["server_cpu_ms"] = round((cpu["end"] - cpu["start"]) * 1000 / max(window.worked(), 1), 2)
    return summary


# ------------------------------------------------------------------------------------------------
# Ours over HTTP
# ------------------------------------------------------------------------------------------------


def user_targets(path: str) -> list[data.Target]:
    """New-conversation turns ("add buy milk", no conversation id), one for each of `USERS` users."""
    body = json.dumps({"message": MESSAGE})
    users = [uuid.uuid4() for _ in range(USERS)]
    return [data.Target("POST", f"/api/{u}/{path}", data.token(u), body) for u in users]


async def stored_turns(url: str) -> dict[str, int]:
    """Items stored by kind: a whole turn is one of each (user message, call, output, answer)."""
    from service.db import Database
    from service.models import AgentMessage, AgentSession

    database = Database(url)
    try:
        async with database.reader() as db:
            rows = (
                await db.execute(
                    select(AgentMessage.role, AgentMessage.kind, func.count()).group_by(
                        AgentMessage.role, AgentMessage.kind
                    )
                )
            ).all()
            sessions = (await db.execute(select(func.count()).select_from(AgentSession))).scalar_one()
    finally:
        await database.dispose()
    counts = {f"{role}/{kind}": int(n) for role, kind, n in rows}
    counts["conversations"] = int(sessions)
    return counts


def _turn_check(before: dict[str, int], after: dict[str, int], answered: int) -> dict[str, Any]:
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    users = delta.get("user/message", 0)
    parts = [delta.get(k, 0) for k in ("assistant/function_call", "tool/function_call_output", "assistant/message")]
    return {
        "turns_stored": users,
        "whole": all(p == users for p in parts),
        "stored_equals_answered": users == answered,
        "conversations_without_turn": delta.get("conversations", 0) - users,
    }


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def ours_rows(bench: Any, url: str, sink: Any, provider_url: str, provider: Any, *, delay_s: float) -> None:
    """Our chat turn through the provider, non-streaming then streaming, at each of `CONCURRENCIES`."""
    from bench.run import serving

    env = {
        "ENV": "dev",
        "DATABASE_URL": url,
        "AUTH_JWT_SECRET": data.SECRET,
        "MODEL_PROVIDER": "openai-compatible",
        "OPENAI_BASE_URL": provider_url,
        "AGENT_MODEL": "fake-provider",
        "RATE_LIMIT_CHAT_PER_MINUTE": "0",
        "AGENT_MAX_INFLIGHT_TURNS": str(INFLIGHT_LIMIT),
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
    }
    label = f"ours provider delay={delay_s:g}s workers=1"
    db_label = "postgres" if url.startswith("postgresql") else "sqlite"
    with serving(bench, "ours", label, env, "/readyz", workers=1) as server:
        for stream in (False, True):
            targets = user_targets("chat/stream" if stream else "chat")
            for concurrency in CONCURRENCIES:
                pids = server.pids()
                samples: dict[str, tuple[float, float, float]] = {}

                def edge(name: str, pids: list[int] = pids, samples: dict[str, Any] = samples) -> None:
                    samples[name] = (cpu_seconds(pids), cpu_seconds([provider.pid]), _rss_mib(pids[0]))

                before = asyncio.run(stored_turns(url))
                window = asyncio.run(
                    drive(
                        server.base_url,
                        targets,
                        concurrency=concurrency,
                        warm_s=2 * delay_s + 1,
                        window_s=bench.provider_window_s,
                        stream=stream,
                        ramp_s=start_spread_s(delay_s),
                        on_window=edge,
                    )
                )
                summary = window.summary(delay_s)
                check = _turn_check(before, asyncio.run(stored_turns(url)), summary["answered_200"])
                turns = max(window.worked(), 1)
                (cpu0, prov0, _), (cpu1, prov1, rss) = samples["start"], samples["end"]
                bench.add(
                    kind="http",
                    name="our chat turn, stream (provider)" if stream else "our chat turn (provider)",
                    db=db_label,
                    model=f"http {delay_s:g}s",
                    tracing="export",
                    workers=1,
                    **summary,
                    server_cpu_ms=round((cpu1 - cpu0) * 1000 / turns, 2),
                    provider_cpu_ms=round((prov1 - prov0) * 1000 / turns, 2),
                    rss_mib=round(rss, 1),
                    inflight_limit=INFLIGHT_LIMIT,
                    **check,
                )
                _detail(bench.records[-1])


def provider_rows(bench: Any, url: str, sink: Any, *, delay_s: float = DELAY_S) -> None:
    """The floor and ours through one fake provider (see the module doc)."""
    with fake_provider(bench.log_dir, delay_s) as (provider_url, provider):
        user = uuid.uuid4()
        asyncio.run(_ensure_user(url, user))
        db_label = "postgres" if url.startswith("postgresql") else "sqlite"
        for stream, concurrencies in ((False, FLOOR_CONCURRENCIES), (True, (100,))):
            for concurrency in concurrencies:
                summary = asyncio.run(
                    floor_window(
                        url,
                        provider_url,
                        user,
                        concurrency=concurrency,
                        delay_s=delay_s,
                        window_s=bench.provider_window_s,
                        stream=stream,
                    )
                )
                bench.add(
                    kind="inprocess",
                    name="SDK floor, streamed (provider)" if stream else "SDK floor (provider)",
                    db=db_label,
                    model=f"http {delay_s:g}s",
                    **summary,
                )
                _detail(bench.records[-1])
        ours_rows(bench, url, sink, provider_url, provider, delay_s=delay_s)
        bench.servers["fake provider"] = {"peak_rss_mib": round(peak_rss_mib(provider.pid), 1), "workers": 1}


def _detail(record: dict[str, Any]) -> None:
    keys = ("of_ideal", "ideal_per_s", "ended_in_window_per_s", "answered_200", "rejected")
    keys = (*keys, "rejected_with_retry_after", "other_failures", "client_errors")
    more = (
        "max_latency_s",
        "over_bound",
        "rss_mib",
        "provider_cpu_ms",
        "turns_stored",
        "whole",
        "stored_equals_answered",
    )
    text = ", ".join(f"{k}={record[k]}" for k in (*keys, *more) if k in record)
    print(f"       {text}", flush=True)


async def _ensure_user(url: str, user_id: uuid.UUID) -> None:
    from service.db import Database
    from service.users import ensure_user

    database = Database(url)
    try:
        async with database.session() as db:
            await ensure_user(db, user_id, None)
    finally:
        await database.dispose()


def ratios(bench: Any) -> dict[str, Any]:
    """Ours against the floor through the same provider, and streaming against not."""
    found: dict[str, Any] = {}
    for concurrency in FLOOR_CONCURRENCIES:
        ours = bench.find(name="our chat turn (provider)", concurrency=concurrency)
        floor = bench.find(name="SDK floor (provider)", concurrency=concurrency)
        if ours and floor and floor.get("server_cpu_ms"):
            found[f"provider: ours / SDK floor, CPU per turn (c={concurrency})"] = round(
                ours["server_cpu_ms"] / floor["server_cpu_ms"], 2
            )
    for concurrency in CONCURRENCIES:
        ours = bench.find(name="our chat turn (provider)", concurrency=concurrency)
        streamed = bench.find(name="our chat turn, stream (provider)", concurrency=concurrency)
        if ours:
            found[f"provider: ours, turns/s of ideal (c={concurrency})"] = ours["of_ideal"]
        if ours and streamed and ours.get("server_cpu_ms"):
            found[f"provider: ours stream / not, CPU per turn (c={concurrency})"] = round(
                streamed["server_cpu_ms"] / ours["server_cpu_ms"], 2
            )
    return found
