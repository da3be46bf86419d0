"""HTTP load: wrk with `targets.lua` when wrk is installed, else an async httpx client.

Both are closed-loop: `concurrency` connections, each sending its next request when the previous one
answered, for `duration_s`. Requests come round-robin from a list of targets (method, path, token,
body), so every request carries its own user's token and conversation.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

LUA = Path(__file__).with_name("targets.lua")


@dataclass(frozen=True)
class Target:
    method: str
    path: str
    token: str = ""
    body: str = ""


@dataclass
class LoadResult:
    tool: str
    concurrency: int
    requests: int
    errors: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def load_tool() -> str:
    return "wrk" if shutil.which("wrk") else "httpx"


def run_load(base_url: str, targets: list[Target], *, concurrency: int, duration_s: float) -> LoadResult:
    if load_tool() == "wrk":
        return _wrk(base_url, targets, concurrency, duration_s)
    return asyncio.run(_httpx(base_url, targets, concurrency, duration_s))


def _wrk(base_url: str, targets: list[Target], concurrency: int, duration_s: float) -> LoadResult:
    threads = min(concurrency, 2)
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        for t in targets:
            handle.write(f"{t.method}\t{t.path}\t{t.token}\t{t.body}\n")
    try:
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{concurrency}",
            f"-d{max(1, round(duration_s))}s",
            "--timeout",
            "30s",
            "-s",
            str(LUA),
            base_url,
            "--",
            str(threads),
        ]
        output = subprocess.run(
            command,
            env={**os.environ, "BENCH_TARGETS": handle.name},
            capture_output=True,
            text=True,
            check=True,
            timeout=duration_s + 60,
        ).stdout
    finally:
        os.unlink(handle.name)
    line = next((x for x in output.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    duration = data["duration_us"] / 1e6
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return LoadResult(
        tool="wrk",
        concurrency=concurrency,
        requests=data["requests"],
        errors=errors,
        duration_s=duration,
        rps=data["requests"] / duration,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        mean_ms=data["mean_us"] / 1000,
    )


async def _httpx(base_url: str, targets: list[Target], concurrency: int, duration_s: float) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    counter = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:
        start = time.perf_counter()
        deadline = start + duration_s

        async def worker() -> None:
            nonlocal errors, counter
            while time.perf_counter() < deadline:
                target = targets[counter % len(targets)]
                counter += 1
                headers = {"Authorization": f"Bearer {target.token}"} if target.token else {}
                if target.body:
                    headers["Content-Type"] = "application/json"
                sent = time.perf_counter()
                try:
                    response = await client.request(target.method, target.path, headers=headers, content=target.body)
                    ok = response.status_code < 400
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - sent)
                errors += not ok

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return LoadResult(
        tool="httpx",
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors,
        duration_s=elapsed,
        rps=len(latencies) / elapsed,
        p50_ms=cuts[49] * 1000,
        p90_ms=cuts[89] * 1000,
        p99_ms=cuts[98] * 1000,
        mean_ms=statistics.fmean(latencies) * 1000,
    )
