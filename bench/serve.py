"""`python -m bench.serve APP --port P --workers N`: one of `bench.apps` behind uvicorn.

The same `uvicorn.run` call as `python -m service serve` (factory, workers, and its `server_options`:
access logs on, the h11 parser with the header bound, the connection limit), for every app, so each is
measured as the service is served; minus the migration, which the benchmark runs once beforehand.
"""

from __future__ import annotations

import argparse

import uvicorn

from service.__main__ import server_options
from service.config import get_settings

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
        **server_options(get_settings()),
    )


if __name__ == "__main__":
    main()
