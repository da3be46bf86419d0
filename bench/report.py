"""The benchmark's report: the machine it ran on, the table's rows as they come, the summary at the end."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import psycopg

from bench import data

PACKAGES = (
    "openai-agents",
    "openai",
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pydantic",
    "sqlalchemy",
    "sqlmodel",
    "aiosqlite",
    "psycopg",
    "opentelemetry-sdk",
)


def machine() -> dict[str, Any]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    wrk = shutil.which("wrk")
    wrk_version = None
    if wrk:
        wrk_version = subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout.split("\n")[0].strip()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "load_generator": wrk_version or "httpx (wrk not installed)",
        "packages": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def postgres_version(url: str) -> str:
    with psycopg.connect(data._libpq(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


COLUMNS = ("measurement", "db", "model", "tracing", "c", "per s", "p50 ms", "p99 ms", "svc CPU ms", "pg CPU ms")


def row(record: dict[str, Any]) -> str:
    def cell(value: Any) -> str:
        return "-" if value is None else str(value)

    name = record["name"] + (f" ({record['workers']} worker)" if record.get("workers") else "")
    values = (
        name,
        record.get("db", "-"),
        record.get("model", "-"),
        record.get("tracing", "-") if record["kind"] == "http" else "none",
        record["concurrency"],
        record["per_s"],
        record["p50_ms"],
        record["p99_ms"],
        record.get("server_cpu_ms"),
        record.get("postgres_cpu_ms"),
    )
    prefix = "HTTP " if record["kind"] == "http" else "     "
    return prefix + "  ".join(f"{cell(v):<{w}}" for v, w in zip(values, _WIDTHS, strict=True))


_WIDTHS = (34, 8, 8, 8, 2, 8, 8, 8, 10, 9)


def header() -> str:
    return "     " + "  ".join(f"{c:<{w}}" for c, w in zip(COLUMNS, _WIDTHS, strict=True))


def report(bench: Any, result: dict[str, Any]) -> None:
    print("\n== ratios ==")
    for key, value in result["ratios"].items():
        print(f"  {key:<84} {value}")
    print("\n== peak RSS (MiB, the largest serving process) ==")
    for label, info in bench.servers.items():
        extra = (
            f"  spans exported per turn: {info['spans_exported_per_turn']}" if "spans_exported_per_turn" in info else ""
        )
        print(f"  {label:<50} {info['peak_rss_mib']}{extra}")
    print(f"  {'benchmark process (in-process measurements)':<50} {result['benchmark_process_peak_rss_mib']}")
    for note in bench.notes:
        print(f"\nnote: {note}")
    print(f"\ntook {result['took_s']:.0f} s; JSON: {result['json']}")
