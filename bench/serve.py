"""`python -m bench.serve APP --port P --workers N`: one of `bench.apps` behind uvicorn.

The same `uvicorn.run` call as `python -m service serve` (factory, workers, `log_level="info"`, so
access logs are on, and uvicorn's `auto` loop and HTTP parser: uvloop and httptools), minus the
migration, which the benchmark runs once beforehand.
"""

from __future__ import annotations

import argparse

import uvicorn

APPS = ("ours", "hello", "alternative")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("app", choices=APPS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    uvicorn.run(
        f"bench.apps:{args.app}",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
    )


if __name__ == "__main__":
    main()
