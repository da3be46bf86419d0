"""Time the first model call of each recorded turn against a live local endpoint: before and after a change.

    python -m evals.local_model.first_call --base-url http://127.0.0.1:8765/v1 DIR [DIR …]

Each DIR is a cassette folder (e.g. the committed one, and a copy of an older one from git). For every
turn, the request that opened it (the one whose last message is the user's) is sent again as recorded,
folder after folder, so the server's prompt cache is warm with that folder's static prefix, as it is in
use. Prints the median and p90 seconds and input tokens per folder. Standard library and PyYAML only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml


def first_requests(folder: Path) -> list[dict[str, Any]]:
    """The request bodies that opened a turn, in case and turn order."""
    bodies = []
    for cassette in sorted(folder.glob("*.yaml")):
        for interaction in (yaml.safe_load(cassette.read_text()) or {}).get("interactions", []):
            body = json.loads(interaction["request"]["body"])
            if body.get("messages") and body["messages"][-1].get("role") == "user":
                bodies.append(body)
    return bodies


def timed(base_url: str, body: dict[str, Any]) -> tuple[float, int]:
    request = urllib.request.Request(
        f"{base_url}/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.loads(response.read())
    return time.perf_counter() - started, int(answer["usage"]["prompt_tokens"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8765/v1")
    parser.add_argument("--limit", type=int, default=0, help="at most this many turns per folder (0: all)")
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    for folder in args.folders:
        bodies = first_requests(folder)[: args.limit or None]
        runs = [timed(args.base_url, body) for body in bodies]
        seconds = sorted(s for s, _ in runs)
        tokens = [t for _, t in runs]
        p90 = seconds[min(len(seconds) - 1, int(0.9 * len(seconds)))]
        print(
            f"{folder}: {len(runs)} first calls, median {statistics.median(seconds):.2f} s, p90 {p90:.2f} s, "
            f"input tokens median {statistics.median(tokens):.0f}"
        )


if __name__ == "__main__":
    main()
