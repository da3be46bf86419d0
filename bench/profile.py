"""`python -m bench.profile`: where a chat turn's time goes, as a pyinstrument profile of the server under load.

Serves the service (tracing on: OTLP/HTTP export to a local receiver) with uvicorn in this process,
drives it with the benchmark's load generator from a thread for `--duration` seconds, and prints the
profile of the serving thread (the event loop: HTTP, auth, memory, the SDK, tools, tracing, SQL):

    uv run python -m bench.profile --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres

`--database` is a server where a scratch database may be created (PostgreSQL) or `sqlite`.

`--ablate` instead runs turns back to back in-process (ASGI, no socket) and prints this process's CPU
time per turn with one piece of the turn taken out at a time (a guardrail, the locks, the history read,
the storing of the turn), and the SDK's own run of the same agent without memory: what each piece costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from pyinstrument import Profiler

from bench import data
from bench.load import run_load
from bench.otlp_sink import OtlpSink
from bench.procs import free_port
from service.__main__ import server_options
from service.config import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--database", default="sqlite", help="`sqlite`, or a PostgreSQL URL to create a database on")
    parser.add_argument("--model", choices=("instant", "offline"), default="instant")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--tracing", choices=("export", "none", "off"), default="export")
    parser.add_argument("--all", action="store_true", help="show library frames too")
    parser.add_argument("--html", type=Path, help="also write the profile as HTML here")
    parser.add_argument("--ablate", action="store_true", help="CPU per turn with pieces of the turn taken out")
    parser.add_argument(
        "--provider",
        type=float,
        metavar="DELAY",
        help="drive new-conversation turns through bench.fake_provider (OpenAI-compatible HTTP) with this delay",
    )
    parser.add_argument("--stream", action="store_true", help="with --provider: the streamed turn (`/chat/stream`)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    pg_name = f"todo_profile_{os.getpid()}"
    if args.database == "sqlite":
        url = f"sqlite+aiosqlite:///{scratch / 'profile.db'}"
    elif os.environ.get("BENCH_IN_PLACE") == "1":  # this database itself, emptied (as `python -m bench` does)
        url = data.reset_postgres_database(args.database)
    else:
        url = data.create_postgres_database(args.database, pg_name)
    try:
        dataset = data.prepare(url, "profile")
        with OtlpSink() as sink:
            os.environ.update(
                {
                    "DATABASE_URL": url,
                    "AUTH_JWT_SECRET": data.SECRET,
                    "MODEL_PROVIDER": "offline",
                    "RATE_LIMIT_CHAT_PER_MINUTE": "0",
                    # No in-flight limit: the warm-up's load ends with turns still running, and the
                    # profile is of turns, not of refusals.
                    "AGENT_MAX_INFLIGHT_TURNS": "0",
                    "BENCH_MODEL": args.model,
                }
            )
            if args.tracing == "export":
                os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.endpoint
            elif args.tracing == "off":
                os.environ["OTEL_SDK_DISABLED"] = "true"
            if args.provider is not None:
                from bench.provider import fake_provider, user_targets

                with fake_provider(scratch, args.provider) as (provider_url, _process):
                    os.environ.update(
                        {
                            "MODEL_PROVIDER": "openai-compatible",
                            "OPENAI_BASE_URL": provider_url,
                            "AGENT_MODEL": "fake-provider",
                            "BENCH_MODEL": "offline",
                        }
                    )
                    if args.ablate:
                        asyncio.run(ablate(dataset, provider=True))
                    else:
                        profile(args, dataset, user_targets("chat/stream" if args.stream else "chat"))
            elif args.ablate:
                asyncio.run(ablate(dataset))
            else:
                profile(args, dataset)
            provider = trace.get_tracer_provider()
            if isinstance(provider, TracerProvider):
                provider.shutdown()  # flush the last spans while the receiver still listens
    finally:
        if args.database != "sqlite" and os.environ.get("BENCH_IN_PLACE") != "1":
            data.drop_postgres_database(args.database, pg_name)
        elif args.database != "sqlite":
            data.reset_postgres_database(args.database)  # emptied again, as `python -m bench` leaves it
        shutil.rmtree(scratch, ignore_errors=True)


def profile(args: argparse.Namespace, dataset: data.Dataset, targets: list[Any] | None = None) -> None:
    from bench.apps import ours

    targets = targets or dataset.chat
    cpu: list[float] = []

    port = free_port()
    options = server_options(get_settings()) | {"log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(ours(), host="127.0.0.1", port=port, **options))
    profiler = Profiler(async_mode="disabled")
    warm, done = threading.Event(), threading.Event()
    results: list[object] = []

    def load() -> None:
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        warm_s = 1 if args.provider is None else 2 * args.provider + 1
        run_load(base, targets, concurrency=args.concurrency, duration_s=warm_s)  # warm-up, not profiled
        warm.set()
        results.append(run_load(base, targets, concurrency=args.concurrency, duration_s=args.duration))
        done.set()

    async def serve() -> None:
        # pyinstrument samples the thread that starts it: the event loop's, where every request runs.
        serving = asyncio.create_task(server.serve())
        await asyncio.to_thread(warm.wait)
        profiler.start(target_description="the serving thread under load")
        cpu.append(time.process_time())
        await asyncio.to_thread(done.wait)
        cpu.append(time.process_time())
        profiler.stop()
        server.should_exit = True
        await serving

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    try:  # the loop `uvicorn.run` picks ("auto"): uvloop when installed
        import uvloop

        uvloop.run(serve())
    except ImportError:
        asyncio.run(serve())
    thread.join()
    print(profiler.output_text(unicode=True, color=False, show_all=args.all))
    session = profiler.last_session
    if session is not None and (root := session.root_frame()) is not None:
        print(breakdown(root, session.duration))
    print(results[0] if results else "no load result")
    if results and len(cpu) == 2:
        turns = max(getattr(results[0], "requests", 1), 1)
        print(f"process CPU per turn (profiler's own cost included): {(cpu[1] - cpu[0]) * 1000 / turns:.2f} ms")
    if args.html:
        args.html.write_text(profiler.output_html())


async def ablate(dataset: data.Dataset, turns: int = 300, provider: bool = False) -> None:
    """CPU ms per turn (this process: HTTP handling, SDK, tools, memory, tracing; not PostgreSQL's)."""
    import contextlib
    import uuid
    from datetime import UTC, datetime

    import httpx

    from agents import Model, ModelProvider, RunConfig, Runner
    from bench.apps import ours, plain_agent
    from service.agent import memory
    from service.agent.context import TurnContext
    from service.agent.turn_items import TurnResult
    from service.api.state import AppState

    made: list[Model] = []  # the models the provider makes: with a provider configured, its model comes first

    def keep(model: Model) -> Model:
        made.append(model)
        return model

    class ProviderModelAlone(ModelProvider):
        def get_model(self, model_name: str | None) -> Model:
            return made[0]

    app = ours(wrap=keep)
    async with app.router.lifespan_context(app):
        runtime: Any = AppState.of(app).agent  # Any: the ablations below swap its parts and methods
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def http_turns(count: int) -> None:
                for n in range(count):
                    target = dataset.chat[n % len(dataset.chat)]
                    headers = {"Authorization": f"Bearer {target.token}", "Content-Type": "application/json"}
                    response = await client.post(target.path, content=target.body, headers=headers)
                    if response.status_code != 200:
                        raise RuntimeError(response.text)

            def sdk_turns(agent: Any) -> Any:
                async def run(count: int) -> None:
                    for _ in range(count):
                        # What the output guardrail may let the answer name: the message, the tool outputs (hooks).
                        context = TurnContext(
                            user_id=dataset.chat_user,
                            db=runtime.database,
                            today=datetime.now(UTC).date(),
                            seen=[data.CHAT_MESSAGE],
                            seen_base=runtime.seen_base,
                        )
                        model = runtime.models.get_model(runtime.model_name)
                        config = RunConfig(model=model)
                        await Runner.run(
                            agent, data.CHAT_MESSAGE, context=context, run_config=config, hooks=runtime.run_hooks
                        )

                return run

            async def measure(label: str, run: Any = http_turns) -> None:
                await run(30)
                started = time.process_time()
                await run(turns)
                print(f"  {(time.process_time() - started) * 1000 / turns:6.2f} ms  {label}", flush=True)

            print(f"CPU per turn, {turns} turns in a row (client included: httpx over ASGI, ~0.3 ms):")
            await measure("the whole turn")
            if provider:
                from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

                OpenAIInstrumentor().uninstrument()
                await measure("without the OpenAI instrumentation (no provider-call span)")
                OpenAIInstrumentor().instrument()
                service_models, runtime.models = runtime.models, ProviderModelAlone()
                await measure("without the FallbackModel wrapper")
                runtime.models = service_models
            agent = runtime.agent
            saved = agent.input_guardrails, agent.output_guardrails
            agent.input_guardrails = []
            await measure("without the input guardrail (user_scope)")
            agent.input_guardrails, agent.output_guardrails = saved[0], []
            await measure("without the output guardrail (output_scope: a title lookup)")
            agent.output_guardrails = saved[1]

            @contextlib.asynccontextmanager
            async def no_lock(_conversation_id: uuid.UUID) -> Any:
                yield

            hold, runtime.locks.hold = runtime.locks.hold, no_lock
            await measure("without the conversation lock")
            runtime.locks.hold = hold
            read = memory.AgentMessageSession.get_items

            async def no_history(self: Any, limit: int | None = None) -> list[Any]:
                return []

            memory.AgentMessageSession.get_items = no_history  # type: ignore[method-assign]
            await measure("without reading the history (the model sees only the new message)")
            memory.AgentMessageSession.get_items = read  # type: ignore[method-assign]
            save = memory.AgentMessageSession.save_turn

            async def no_save(
                self: Any, items: list[Any], last_id: Any = None, *, first_turn: bool = False
            ) -> list[Any]:
                values = [memory.message_values(dict(i), self.conversation_id, self.user_id) for i in items]
                return [memory.StoredItem(seq=0, **{k: v[k] for k in memory._STORED}) for v in values]

            memory.AgentMessageSession.save_turn = no_save  # type: ignore[method-assign]
            await measure("without storing the turn")
            memory.AgentMessageSession.save_turn = save  # type: ignore[method-assign]
            run_turn = runtime.run_turn

            async def canned(
                user_id: uuid.UUID, message: str, conversation_id: uuid.UUID | None, hooks: Any = None
            ) -> Any:
                now = datetime.now(UTC)
                result = TurnResult(conversation_id or uuid.uuid4(), uuid.uuid4(), "ok", now, "offline", True, "0" * 32)
                if hooks is not None:
                    await hooks.on_done(result)  # gives the admission slot back, as a turn does
                return result

            runtime.run_turn = canned
            await measure("HTTP, auth and the response only (no turn at all)")
            runtime.run_turn = run_turn
            await measure("Runner.run of the service's agent, no memory, no HTTP", sdk_turns(agent))
            await measure("Runner.run of the plain agent (the SDK floor), with SDK tracing", sdk_turns(plain_agent()))


def _component(path: str | None) -> str:
    """Which part of the stack a frame's file belongs to: a package, or the service's own module."""
    if not path:
        return "(native)"
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/service/" in path:
        return "service/" + path.split("/service/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/bench/" in path:
        return "bench"
    return "python stdlib" if "/lib/python" in path else "(other)"


def breakdown(root: Any, duration: float, top: int = 25) -> str:
    """Self time by component and by function: what the tree spreads over many branches, added up."""
    by_component: dict[str, float] = {}
    by_function: dict[str, float] = {}
    stack = [root]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        self_time = frame.time - sum(child.time for child in frame.children)
        if self_time <= 1e-9:
            continue
        # Synthetic frames ("[self]", "[await]") stand for time spent in their parent.
        owner = frame.parent if frame.is_synthetic and frame.parent is not None else frame
        component = _component(owner.file_path)
        by_component[component] = by_component.get(component, 0.0) + self_time
        name = f"{owner.function} ({component})"
        by_function[name] = by_function.get(name, 0.0) + self_time
    lines = [f"self time by component (of {duration:.2f} s sampled):"]
    for name, seconds in sorted(by_component.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {seconds / duration:6.1%}  {seconds:7.3f} s  {name}")
    lines.append("self time by function:")
    for name, seconds in sorted(by_function.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {seconds / duration:6.1%}  {seconds:7.3f} s  {name}")
    lines.append("total time by function (callees included; where the tree's branches for one piece add up):")
    for name, seconds in sorted(_inclusive(root).items(), key=lambda kv: -kv[1])[: top * 2]:
        lines.append(f"  {seconds / duration:6.1%}  {seconds:7.3f} s  {name}")
    return "\n".join(lines)


def _inclusive(root: Any) -> dict[str, float]:
    """Time under each function, summed over the places it is called from (a recursive call counted once)."""
    totals: dict[str, float] = {}
    stack: list[tuple[Any, frozenset[str]]] = [(root, frozenset())]
    while stack:
        frame, above = stack.pop()
        name = f"{frame.function} ({_component(frame.file_path)})"
        if not frame.is_synthetic and name not in above:
            totals[name] = totals.get(name, 0.0) + frame.time
            above = above | {name}
        stack.extend((child, above) for child in frame.children)
    return totals


if __name__ == "__main__":
    main()
