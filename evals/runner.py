"""Runs the cases through the real agent turn (`AgentRuntime.run_turn`: memory, tools, guardrails) as a
pydantic-evals `Dataset`: the task plays a case's turns, `CaseRun` (its case lifecycle hooks) gives each
case a fresh SQLite copy of a template migrated once, seeded from `setup`, and closes it afterwards.

A pinned clock and todo ids derived from the case id make a recorded conversation send byte-identical
requests when it is replayed.
"""

from __future__ import annotations

import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic_evals.lifecycle import CaseLifecycle
from pydantic_evals.reporting import EvaluationReport, ReportCase, ReportCaseFailure
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import Session, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from vcr.errors import CannotOverwriteExistingCassetteException

from agents import Model, ModelResponse
from evals.cases import CaseSpec, dataset
from evals.cassettes import cassette, cassette_path
from evals.clock import PINNED_NOW
from evals.evaluators import changed_nothing, one_call_per_item
from service.agent.providers import SettingsModelProvider
from service.agent.runtime import AgentRuntime
from service.agent.spec import load_spec
from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.models import Task, User, UserContext

EVAL_USER = uuid.UUID("0e7a1000-0000-4000-8000-000000000001")
SEEDED_AT = datetime(2026, 1, 1, tzinfo=UTC)
ID_NAMESPACE = uuid.UUID("6f0c1a52-6a3e-4c1e-9d84-0b6f7e1d3a10")
STALE = "the agent sent a request the cassette does not hold (prompt, tools or history changed)"
FELL_BACK = "the provider failed and the offline model finished the turn"


@dataclass
class Target:
    """What answers the turns: the offline model, a live provider, or a cassette folder (replay)."""

    name: str  # the label in reports: "offline" or the recorded model's folder name
    mode: Literal["offline", "live", "record", "replay"]
    provider: Literal["offline", "openai", "openai-compatible"] = "offline"
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

    def has_cassette(self, case: CaseSpec) -> bool:
        """False only for a replay of a case that was never recorded for this model."""
        return self.mode != "replay" or self.cassette_dir is None or cassette_path(self.cassette_dir, case.id).exists()


@dataclass
class TurnRecord:
    """What one turn did (the task's output); the evaluators score it."""

    user: str
    response: str
    calls: list[dict[str, Any]]  # one per item of a batch call (`evaluators.one_call_per_item`)
    harmless: list[str]  # the names of the calls that changed nothing
    guardrail: str | None
    approvals: list[str]
    latency_s: float
    tokens: int
    using_stub: bool
    # The turn's first model call, the one the per-turn todo snapshot makes longer: seconds, input tokens.
    first_call_s: float | None
    first_call_input_tokens: int | None


@dataclass
class Conversation:
    turns: list[TurnRecord] = field(default_factory=list)
    final_todos: list[dict[str, Any]] | None = None
    status: Literal["passed", "stale", "error"] = "passed"  # `failed` is for the evaluators to say
    problem: str | None = None


class UsageLog(Model):
    """Passes calls through to a model, logging each call's seconds, input and total tokens in `log`
    (shared by the runtime's models: a turn's first call is what the todo snapshot makes longer)."""

    def __init__(self, inner: Model, log: list[tuple[float, int, int]]) -> None:
        self.inner, self.log = inner, log

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        started = time.perf_counter()
        response = await self.inner.get_response(*args, **kwargs)
        usage = response.usage
        self.log.append((time.perf_counter() - started, usage.input_tokens or 0, usage.total_tokens or 0))
        return response

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.stream_response(*args, **kwargs)


def agent_runtime(target: Target, database: Database) -> tuple[AgentRuntime, list[tuple[float, int, int]]]:
    """The model injection point: the runtime for `target`, its models (provider, offline) logging usage."""
    settings, spec = target.settings(str(database.engine.url)), load_spec()
    log: list[tuple[float, int, int]] = []
    provider = SettingsModelProvider(settings, spec.model, wrap=lambda model: UsageLog(model, log))
    return AgentRuntime(settings, database, spec, clock=lambda: PINNED_NOW, model_provider=provider), log


class EvalDatabase(Database):
    """A case's database: each new todo gets an id derived from the case id and a counter, before insert."""

    def __init__(self, url: str, case_id: str) -> None:
        super().__init__(url)
        count = iter(range(1, 1_000_000))

        class EvalSession(Session):
            pass

        @event.listens_for(EvalSession, "before_flush")
        def _assign(session: Session, _ctx: Any, _instances: Any) -> None:
            for obj in session.new:
                if isinstance(obj, Task):
                    obj.id = uuid.uuid5(ID_NAMESPACE, f"{case_id}:{next(count)}")

        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, sync_session_class=EvalSession
        )


async def _seed(database: Database, case: CaseSpec) -> None:
    async with database.session() as db:
        db.add(User(id=EVAL_USER, email="eval@example.com", created_at=SEEDED_AT))
        await db.commit()
        if (ctx := case.setup.context) is not None:
            db.add(UserContext(user_id=EVAL_USER, **ctx.model_dump(), updated_at=SEEDED_AT))
        for index, todo in enumerate(case.setup.todos):
            at = SEEDED_AT + timedelta(minutes=index)
            db.add(Task(user_id=EVAL_USER, **todo.model_dump(), created_at=at, updated_at=at))
        await db.commit()


async def _final_todos(database: Database) -> list[dict[str, Any]]:
    async with database.session() as db:
        query = select(Task).where(col(Task.user_id) == EVAL_USER).order_by(col(Task.created_at), col(Task.id))
        fields = {"title", "completed", "description", "due_date"}
        return [t.model_dump(mode="json", include=fields) for t in (await db.exec(query)).all()]


class Workspace:
    """A template database migrated once; each case runs on a copy of it."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.template = root, root / "template.db"
        upgrade(f"sqlite+aiosqlite:///{self.template}")


class CaseRun(CaseLifecycle[CaseSpec, Conversation, None]):
    """A case's lifecycle: a fresh seeded database and a runtime before its task (`converse`), then closed."""

    def __init__(self, case: Any, target: Target, workspace: Workspace, running: dict[str, CaseRun]) -> None:
        super().__init__(case)
        self.target, self.workspace, self.running, self.id = target, workspace, running, case.inputs.id
        self.path = workspace.root / f"{target.name.replace('/', '_')}-{self.id}.db"
        self.database = EvalDatabase(f"sqlite+aiosqlite:///{self.path}", self.id)
        self.runtime: AgentRuntime | None = None

    async def setup(self) -> None:
        shutil.copyfile(self.workspace.template, self.path)
        await _seed(self.database, self.case.inputs)
        self.runtime, self.log = agent_runtime(self.target, self.database)
        self.running[self.id] = self

    async def teardown(self, result: ReportCase[Any, Any, Any] | ReportCaseFailure[Any, Any, Any] | None) -> None:
        self.running.pop(self.id, None)
        if self.runtime is not None:
            await self.runtime.aclose()
        await self.database.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 (a local temp file)

    async def converse(self) -> Conversation:
        """The task: the case's turns in one conversation. A case that cannot go on says why."""
        assert self.runtime is not None
        out, conversation, fell_back, log, mode = Conversation(), None, False, self.log, self.target.mode
        try:
            async with cassette(mode, self.target.cassette_dir, self.id) as tape:
                for turn in self.case.inputs.turns:
                    before, started = len(log), time.perf_counter()
                    result = await self.runtime.run_turn(EVAL_USER, turn.user, conversation)
                    conversation, calls = result.conversation_id, one_call_per_item(result.tool_calls)
                    harmless = changed_nothing(calls, result.tool_results)
                    fell_back |= mode != "offline" and result.using_stub
                    first = log[before] if len(log) > before else (None, None, 0)
                    out.turns.append(
                        TurnRecord(
                            turn.user,
                            result.response,
                            [{"name": c["name"], "arguments": c["arguments"]} for c in calls],
                            harmless,
                            result.guardrail["name"] if result.guardrail else None,
                            sorted(c["name"] for c in one_call_per_item([_as_call(a) for a in result.approvals])),
                            time.perf_counter() - started,
                            sum(total for _, _, total in log[before:]),
                            result.using_stub,
                            *first[:2],
                        )
                    )
                fell_back |= mode == "replay" and tape is not None and not tape.all_played
            out.final_todos = await _final_todos(self.database)
        except Exception as exc:  # a broken case must not stop the run: it is reported as `error` (or `stale`)
            out.status, out.problem = (
                ("stale", STALE) if _unrecorded(exc) else ("error", f"{type(exc).__name__}: {exc}")
            )
        else:
            if fell_back:  # a live provider failed and the offline model answered, or a replay missed its cassette
                out.status, out.problem = ("stale", STALE) if mode == "replay" else ("error", FELL_BACK)
        return out


def _as_call(approval: dict[str, Any]) -> dict[str, Any]:
    """A paused call as the call it stands for, so that `delete_todo(todo=[a, b])` pauses two deletes."""
    return {"name": approval["tool"], "arguments": approval.get("arguments")}


def _unrecorded(exc: BaseException | None) -> bool:
    """vcrpy refused a request that is not in the cassette (directly, or wrapped by the client or the SDK)."""
    for _ in range(10):
        if exc is None or isinstance(exc, CannotOverwriteExistingCassetteException):
            return exc is not None
        exc = exc.__cause__ or exc.__context__
    return False


async def run_cases(
    cases: list[CaseSpec], target: Target, workspace: Workspace, progress: bool = False
) -> EvaluationReport[CaseSpec, Conversation, None]:
    """The target's pydantic-evals report over `cases` (a case it has no cassette for is left out)."""
    running: dict[str, CaseRun] = {}

    async def converse(case: CaseSpec) -> Conversation:
        return await running[case.id].converse()

    return await dataset([c for c in cases if target.has_cassette(c)]).evaluate(
        converse,
        name=target.name,
        task_name=target.name,
        max_concurrency=1,  # a cassette patches the HTTP client process-wide
        progress=progress,
        lifecycle=lambda case: CaseRun(case, target, workspace, running),
    )
