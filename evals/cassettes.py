"""Cassettes: one vcrpy file per case under `evals/cassettes/<model>/`, matched on method, path and JSON body
(vcrpy's `body` matcher parses JSON, so key order is ignored), with no request header and only the
response's content type stored. A folder's `model.json` says how the requests were made (provider, model,
for a local model its quantization and sha256). Replay uses record mode `none`: a request that is not in
the cassette never reaches a network, and the runner reports the case *stale*.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import vcr
from vcr.request import Request

CASSETTES_DIR = Path(__file__).parent / "cassettes"
META_FILE = "model.json"
EMPTY_CASSETTE = "interactions: []\nversion: 1\n"  # vcrpy's format, with no exchange


def _scrub_request(request: Request) -> Request:
    # No header is needed to match, so none is stored (no Authorization, cookie, organisation or project id,
    # nor per-request retry and timeout headers); the content type tells vcrpy to compare bodies as JSON.
    request.headers = {"Content-Type": "application/json"}
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {k: v for k, v in response.get("headers", {}).items() if k.lower() == "content-type"}
    return response


def cassette_path(model_dir: Path, case_id: str) -> Path:
    return model_dir / f"{case_id}.yaml"


@asynccontextmanager
async def cassette(mode: str, folder: Path | None, case_id: str) -> AsyncIterator[Any]:
    """Records (`record`) or replays (`replay`) the case's HTTP exchanges, each once and in order."""
    if mode not in ("record", "replay") or folder is None:
        yield None
        return
    path = cassette_path(folder, case_id)
    if mode == "record":
        path.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    recorder = vcr.VCR(
        record_mode="all" if mode == "record" else "none",
        match_on=("method", "path", "body"),
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
    with recorder.use_cassette(str(path), allow_playback_repeats=False) as tape:
        yield tape
    if mode == "record" and not path.exists():
        # No turn reached the model (a guardrail stopped it), so vcrpy wrote nothing. An empty cassette
        # records that: every case has one, and a replay that now sends a request is reported stale.
        path.write_text(EMPTY_CASSETTE, encoding="utf-8")


def read_meta(model_dir: Path) -> dict[str, Any]:
    if not (model_dir / META_FILE).exists():
        raise FileNotFoundError(f"{model_dir} has no {META_FILE}: record it with `python -m evals record`")
    return dict(json.loads((model_dir / META_FILE).read_text(encoding="utf-8")))


def write_meta(model_dir: Path, meta: dict[str, Any]) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def recorded_models(root: Path = CASSETTES_DIR) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / META_FILE).exists()) if root.exists() else []
