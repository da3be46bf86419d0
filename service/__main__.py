"""Command line: `python -m service {serve,migrate,token}`."""

from __future__ import annotations

import argparse
import re
import sys
import uuid
from datetime import timedelta
from typing import Any

from pydantic import ValidationError

from service.config import Settings, get_settings

DEV_USER = uuid.UUID("00000000-0000-4000-8000-000000000001")


def parse_ttl(text: str) -> timedelta:
    """`3600`, `90s`, `30m`, `12h` or `7d`."""
    match = re.fullmatch(r"(\d+)([smhd]?)", text.strip())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError("ttl looks like 3600, 90s, 30m, 12h or 7d")
    unit = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def _token(settings: Settings, args: argparse.Namespace) -> None:
    from service.auth import mint_token

    print(mint_token(settings, args.user_id, args.ttl))


def _migrate(settings: Settings, _args: argparse.Namespace) -> None:
    from service.migrate import upgrade

    upgrade(settings.database_url)


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from service.auth import mint_token
    from service.migrate import upgrade

    upgrade(settings.database_url)
    if settings.env == "dev" and settings.jwt_secret():
        token = mint_token(settings, DEV_USER, timedelta(days=7))
        base = f"http://{settings.host}:{settings.port}"
        print(
            f"\nTodo Agent Service ({settings.resolved_provider} model) on {base}  (API docs: {base}/docs)\n"
            f"Chat page, signed in as the dev user: {base}/#token={token}\n\n"
            f"Dev user {DEV_USER}; its token, valid 7 days:\n\n"
            f"  export TOKEN={token}\n"
            f'  curl -s {base}/api/{DEV_USER}/chat -H "Authorization: Bearer $TOKEN" \\\n'
            "       -H 'Content-Type: application/json' -d '{\"message\": \"add buy milk\"}'\n",
            flush=True,
        )
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers or settings.worker_count(),
        **server_options(settings),
    )


def server_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app, here and in `make bench` (which must measure what is served)."""
    return {
        "log_level": "info",
        # Bounded per connection and per worker, so oversized or trickled headers cannot exhaust memory.
        "http": "h11",
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
        "limit_concurrency": settings.http_limit_concurrency,
        "timeout_keep_alive": settings.http_keep_alive_s,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate the database, then serve HTTP on $HOST:$PORT")
    serve.add_argument(
        "--workers", type=int, help="default: WEB_CONCURRENCY, else one per core on PostgreSQL, 1 on SQLite"
    )
    serve.set_defaults(run=_serve)
    commands.add_parser("migrate", help="apply Alembic migrations to $DATABASE_URL").set_defaults(run=_migrate)
    token = commands.add_parser("token", help="print a dev JWT for USER_ID, signed with the configured secret")
    token.add_argument("user_id", type=uuid.UUID)
    token.add_argument("--ttl", type=parse_ttl, default=timedelta(hours=24), help="lifetime, e.g. 30m, 12h, 7d")
    token.set_defaults(run=_token)
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}" for e in exc.errors())
        sys.exit(f"invalid settings: {problems}")
    args.run(settings, args)


if __name__ == "__main__":
    main()
