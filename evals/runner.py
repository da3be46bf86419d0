"""Runs one case through the real agent turn (`AgentRuntime.run_turn`: memory, tools, guardrails).

Each case gets a fresh SQLite file copied from a template migrated once, seeded from its `setup`, and a
pinned clock. Todo ids are made deterministic (derived from the case id), so a recorded conversation
sends byte-identical requests when it is replayed.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Session, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from vcr.errors import CannotOverwriteExistingCassetteException

from agents import Model, ModelProvider, ModelResponse
from evals.cases import Case
from evals.cassettes import CASSETTE_OPTIONS, EMPTY_CASSETTE, cassette_path, make_vcr
from evals.scoring import TurnScore, final_state_match, score_turn
from service.agent.providers import SettingsModelProvider
from service.agent.runtime import AgentRuntime
from service.agent.spec import load_spec
from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.models import Task, User, UserContext

# Every case runs "now": a Tuesday morning in London. Date-relative cases ("tomorrow") resolve from it.
PINNED_NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
EVAL_USER = uuid.UUID("0e7a1000-0000-4000-8000-000000000001")
SEEDED_AT = datetime(2026, 1, 1, tzinfo=UTC)
ID_NAMESPACE = uuid.UUID("6f0c1a52-6a3e-4c1e-9d84-0b6f7e1d3a10")

Status = Literal["passed", "failed", "stale", "error"]
Mode = Literal["offline", "live", "record", "replay"]
ProviderKind = Literal["offline", "openai", "openai-compatible"]


@dataclass
class Target:
    """What answers the turns: the offline model, a live provider, or a cassette folder (replay)."""

    name: str  # the label in reports: "offline" or the recorded model's folder name
    mode: Mode
    provider: ProviderKind = "offline"
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    cassette_dir: Path | None = None

    def settings(self, database_url: str) -> Settings:
        return Settings(
            _env_file=None,
            database_url=database_url,
            model_provider=self.provider,
            agent_model=self.model,
            openai_base_url=self.base_url,
            openai_api_key=self.api_key,
            model_max_retries=0,
            model_timeout_s=600,
            rate_limit_chat_per_minute=0,
        )


@dataclass
class CaseResult:
    case: Case
    model: str
    status: Status
    turns: list[TurnScore] = field(default_factory=list)
    final_state_match: bool | None = None
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    final_todos: list[dict[str, Any]] = field(default_factory=list)


class DeterministicIds:
    """Gives every new todo of a case an id derived from the case id and a counter, before it is stored."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.count = 0

    def session_class(self) -> type[Session]:
        ids = self

        class EvalSession(Session):
            pass

        @event.listens_for(EvalSession, "before_flush")
        def _assign(session: Session, _ctx: Any, _instances: Any) -> None:
            for obj in session.new:
                if isinstance(obj, Task):
                    ids.count += 1
                    obj.id = uuid.uuid5(ID_NAMESPACE, f"{ids.case_id}:{ids.count}")

        return EvalSession


class EvalDatabase(Database):
    def __init__(self, database_url: str, ids: DeterministicIds) -> None:
        super().__init__(database_url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, sync_session_class=ids.session_class()
        )


class UsageCounter(Model):
    """Passes calls through to a model, adding up the tokens its responses report and timing each call
    (a turn's first call is what the todo snapshot makes longer: its prompt tokens and its latency)."""

    def __init__(self, inner: Model) -> None:
        self.inner = inner
        self.tokens = 0
        self.calls: list[tuple[float, int]] = []  # (seconds, input tokens) per call, in order

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        started = time.perf_counter()
        response = await self.inner.get_response(*args, **kwargs)
        self.calls.append((time.perf_counter() - started, response.usage.input_tokens or 0))
        self.tokens += response.usage.total_tokens or 0
        return response

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.stream_response(*args, **kwargs)


class Workspace:
    """A template database migrated once; each case gets a copy of it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.db"
        root.mkdir(parents=True, exist_ok=True)
        upgrade(f"sqlite+aiosqlite:///{self.template}")

    def fresh(self, name: str) -> Path:
        path = self.root / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, path)
        return path


async def _seed(database: Database, case: Case) -> None:
    async with database.session() as db:
        db.add(User(id=EVAL_USER, email="eval@example.com", created_at=SEEDED_AT))
        await db.commit()
        if case.setup.context is not None:
            ctx = case.setup.context
            db.add(
                UserContext(
                    user_id=EVAL_USER,
                    display_name=ctx.display_name,
                    timezone=ctx.timezone,
                    preferences=ctx.preferences,
                    updated_at=SEEDED_AT,
                )
            )
        for index, todo in enumerate(case.setup.todos):
            at = SEEDED_AT + timedelta(minutes=index)
            db.add(
                Task(
                    user_id=EVAL_USER,
                    title=todo.title,
                    description=todo.description,
                    completed=todo.completed,
                    due_date=todo.due_date,
                    created_at=at,
                    updated_at=at,
                )
            )
        await db.commit()


async def _final_todos(database: Database) -> list[dict[str, Any]]:
    async with database.session() as db:
        rows = await db.exec(
            select(Task).where(col(Task.user_id) == EVAL_USER).order_by(col(Task.created_at), col(Task.id))
        )
        return [
            {
                "title": t.title,
                "completed": t.completed,
                "description": t.description,
                "due_date": t.due_date.isoformat() if t.due_date else None,
            }
            for t in rows.all()
        ]


@asynccontextmanager
async def _cassette(target: Target, case: Case) -> AsyncIterator[Any]:
    if target.mode not in ("record", "replay") or target.cassette_dir is None:
        yield None
        return
    path = cassette_path(target.cassette_dir, case.id)
    if target.mode == "record":
        path.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(f"no cassette {path}")
    with make_vcr(record=target.mode == "record").use_cassette(str(path), **CASSETTE_OPTIONS) as cassette:
        yield cassette
    if target.mode == "record" and not path.exists():
        # No turn reached the model (a guardrail stopped it), so vcrpy wrote nothing. An empty cassette
        # records that: every case has one, and a replay that now sends a request is reported stale.
        path.write_text(EMPTY_CASSETTE, encoding="utf-8")


async def run_case(case: Case, target: Target, workspace: Workspace) -> CaseResult:
    result = CaseResult(case=case, model=target.name, status="passed")
    db_path = workspace.fresh(f"{target.name.replace('/', '_')}-{case.id}")
    database = EvalDatabase(f"sqlite+aiosqlite:///{db_path}", DeterministicIds(case.id))
    runtime: AgentRuntime | None = None
    fell_back = False
    try:
        await _seed(database, case)
        settings, spec = target.settings(str(database.engine.url)), load_spec()
        provider, counters = _counting_provider(settings, spec.model)
        runtime = AgentRuntime(settings, database, spec, clock=lambda: PINNED_NOW, model_provider=provider)
        async with _cassette(target, case) as cassette:
            conversation_id: uuid.UUID | None = None
            for turn in case.turns:
                tokens_before = sum(c.tokens for c in counters)
                calls_before = [len(c.calls) for c in counters]
                started = time.perf_counter()
                turn_result = await runtime.run_turn(EVAL_USER, turn.user, conversation_id)
                latency = time.perf_counter() - started
                conversation_id = turn_result.conversation_id
                fell_back = fell_back or (target.mode != "offline" and turn_result.using_stub)
                score = score_turn(
                    turn.expect,
                    turn_result.response,
                    turn_result.tool_calls,
                    turn_result.guardrail["name"] if turn_result.guardrail else None,
                    turn_result.tool_results,
                    user=turn.user,
                    latency_s=latency,
                    tokens=sum(c.tokens for c in counters) - tokens_before,
                    using_stub=turn_result.using_stub,
                    first_call=_first_call(counters, calls_before),
                    approvals=[a["tool"] for a in turn_result.approvals],
                )
                result.turns.append(score)
            if target.mode == "replay" and cassette is not None and not cassette.all_played:
                fell_back = True
        result.final_todos = await _final_todos(database)
        result.final_state_match, final_problems = final_state_match(case.final, result.final_todos)
        result.problems = [f"turn {i + 1}: {p}" for i, t in enumerate(result.turns) for p in t.problems]
        result.problems += [f"final: {p}" for p in final_problems]
        if fell_back and target.mode == "replay":
            result.status = "stale"
            result.problems.insert(
                0, "the agent sent a request the cassette does not hold (prompt, tools or history changed)"
            )
        elif fell_back:
            result.status = "error"
            result.problems.insert(0, "the provider failed and the offline model finished the turn")
        elif result.final_state_match is False or not all(t.passed for t in result.turns):
            result.status = "failed"
    except Exception as exc:  # a broken case must not stop the run: it is reported as `error` (or `stale`)
        if _unrecorded_request(exc):
            result.status = "stale"
            result.problems.append(
                "the agent sent a request the cassette does not hold (prompt, tools or history changed)"
            )
        else:
            result.status = "error"
            result.error = f"{type(exc).__name__}: {exc}"
            result.problems.append(result.error)
    finally:
        if runtime is not None:
            await runtime.aclose()
        await database.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 (a local temp file)
    return result


def _unrecorded_request(exc: BaseException | None) -> bool:
    """vcrpy refused a request that is not in the cassette (directly, or wrapped by the client or the SDK)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, CannotOverwriteExistingCassetteException):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _first_call(counters: list[UsageCounter], before: list[int]) -> tuple[float, int] | None:
    """The turn's first model call (seconds, input tokens), from whichever model made one."""
    for counter, start in zip(counters, before, strict=True):
        if len(counter.calls) > start:
            return counter.calls[start]
    return None


def _counting_provider(settings: Settings, spec_model: str) -> tuple[ModelProvider, list[UsageCounter]]:
    """The service's models for `settings`, each (the provider's, then the offline one) adding up its token usage."""
    counters: list[UsageCounter] = []

    def count(model: Model) -> Model:
        counters.append(UsageCounter(model))
        return counters[-1]

    return SettingsModelProvider(settings, spec_model, wrap=count), counters


async def run_cases(cases: list[Case], target: Target, workspace: Workspace, progress: Any = None) -> list[CaseResult]:
    results = []
    for case in cases:
        if not has_cassette(case, target):  # a case recorded later: not a failure of this recording
            if progress is not None:
                progress()
            continue
        results.append(await run_case(case, target, workspace))
        if progress is not None:
            progress()
    return results


def has_cassette(case: Case, target: Target) -> bool:
    """False only for a replay of a case that was never recorded for this model."""
    if target.mode != "replay" or target.cassette_dir is None:
        return True
    return cassette_path(target.cassette_dir, case.id).exists()


def run_sync(cases: list[Case], target: Target, workspace: Workspace, progress: Any = None) -> list[CaseResult]:
    return asyncio.run(run_cases(cases, target, workspace, progress))


__all__ = ["PINNED_NOW", "CaseResult", "Target", "Workspace", "has_cassette", "run_case", "run_cases", "run_sync"]
