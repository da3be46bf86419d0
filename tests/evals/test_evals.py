"""The evals in CI: the offline model over every case, every committed cassette replayed, both gated by
`evals/thresholds.toml`; a stale cassette and a broken tool are caught (issue 5, Done-when 3 and 4)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from evals import runner as evals_runner
from evals.__main__ import replay_target
from evals.cases import CaseSpec, dataset, load_cases
from evals.cassettes import recorded_models, write_meta
from evals.evaluators import ArgumentSubsets, changed_nothing, one_call_per_item
from evals.report import breaches, build_report, load_thresholds
from evals.runner import Conversation, Target, TurnRecord, Workspace, run_cases
from service import todos
from service.agent import runtime as runtime_module
from service.agent.spec import load_spec
from tests.fake_llm import FakeLLM, Reply, TextReply, ToolCallReply, serve_fake_llm

CASES = load_cases()
SECRET = "sk-test-do-not-store-0123456789"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "evals")


def cases(*ids: str) -> list[CaseSpec]:
    chosen = [c for c in CASES if c.id in ids]
    assert len(chosen) == len(ids)
    return chosen


def test_there_are_enough_cases_covering_the_issue_tags() -> None:
    assert len(CASES) >= 60
    tags = {t for c in CASES for t in c.tags}
    wanted = {
        "add", "add_multiple", "add_description", "add_due_date", "list", "list_pending", "list_done",
        "list_empty", "pagination", "complete", "reopen", "reference", "rename", "delete", "position",
        "clear_completed", "memory", "user_context", "small_talk", "help", "ambiguity", "impossible",
        "cross_user", "prompt_injection", "long_input", "odd_input",
    }  # fmt: skip
    assert wanted <= tags


async def test_offline_model_meets_its_thresholds(workspace: Workspace) -> None:
    report = build_report([await run_cases(CASES, Target(name="offline", mode="offline"), workspace)])
    assert report["summary"]["offline"]["error"] == 0, [c["problems"] for c in report["cases"] if c["error"]]
    assert breaches(report["summary"], load_thresholds()) == []


@pytest.mark.parametrize("folder", recorded_models() or [None], ids=lambda f: f.name if f else "none")
async def test_committed_cassettes_replay_fresh_and_meet_thresholds(folder: Path | None, workspace: Workspace) -> None:
    if folder is None:
        pytest.skip("no recorded model under evals/cassettes yet")
    report = build_report([await run_cases(CASES, replay_target(folder), workspace)])
    stale = [c["id"] for c in report["cases"] if c["status"] == "stale"]
    assert stale == [], f"stale cassettes in {folder.name}: re-record them"
    assert breaches(report["summary"], load_thresholds()) == []


async def test_a_tool_ignoring_completed_fails_the_final_state_metric(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_update = todos.update_todo

    async def broken_update(*args: Any, completed: bool | None = None, **kwargs: Any) -> Any:
        return await real_update(*args, **kwargs)  # drops `completed` on the floor

    chosen = [c for c in CASES if "complete" in c.tags or "reopen" in c.tags]
    healthy = await run_cases(chosen, Target(name="offline", mode="offline"), workspace)
    monkeypatch.setattr(todos, "update_todo", broken_update)
    broken = await run_cases(chosen, Target(name="offline", mode="offline"), workspace)

    before = build_report([healthy])["summary"]["offline"]["final_state_match"]
    after = build_report([broken])["summary"]["offline"]
    assert after["final_state_match"] < before
    assert any("final_state_match" in p for p in breaches({"offline": after}, load_thresholds()))


def change_one_word_of_the_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request the agent sends now differs from its recording by one word of the system prompt."""
    spec = load_spec()
    edited = dataclasses.replace(spec, instructions=spec.instructions.replace("short", "brief", 1))
    assert edited.instructions != spec.instructions
    monkeypatch.setattr(runtime_module, "load_spec", lambda: edited)
    monkeypatch.setattr(evals_runner, "load_spec", lambda: edited)  # the runner hands the runtime its spec


@pytest.mark.parametrize("folder", recorded_models() or [None], ids=lambda f: f.name if f else "none")
async def test_one_changed_word_makes_the_committed_cassettes_stale(
    folder: Path | None, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    if folder is None:
        pytest.skip("no recorded model under evals/cassettes yet")
    change_one_word_of_the_instructions(monkeypatch)
    report = build_report([await run_cases(cases("add_single", "list_all"), replay_target(folder), workspace)])
    assert [c["status"] for c in report["cases"]] == ["stale", "stale"], [c["problems"] for c in report["cases"]]
    assert report["summary"][folder.name]["stale"] == 2
    assert breaches(report["summary"], load_thresholds()) != []


def _responder(body: dict[str, Any]) -> Reply:
    """A tiny deterministic "model": list first, then answer from what the tool said."""
    last = body["messages"][-1]
    if last["role"] == "user":
        return ToolCallReply("list_todos", {})
    return TextReply(f"Here is your list: {last['content'][:60]}")


async def test_changed_instructions_make_cassettes_stale_and_rerecording_fixes_it(
    tmp_path: Path, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = cases("list_all", "list_pending")
    folder = tmp_path / "cassettes" / "fake-model"
    fake = FakeLLM(responder=_responder)

    async def record() -> list[str]:
        async with serve_fake_llm(fake):
            target = Target(
                name="fake-model",
                mode="record",
                provider="openai-compatible",
                model="fake-model",
                base_url=fake.base_url,
                api_key=SECRET,
                cassette_dir=folder,
            )
            report = build_report([await run_cases(chosen, target, workspace)])
        assert [c for c in report["cases"] if c["status"] in ("error", "stale")] == []
        return [c["status"] for c in report["cases"]]

    write_meta(folder, {"model": "fake-model", "provider": "openai-compatible"})
    recorded = await record()
    for cassette in folder.glob("*.yaml"):
        text = cassette.read_text()
        assert SECRET not in text and "authorization" not in text.lower() and "cookie" not in text.lower()

    async def replay() -> dict[str, Any]:
        return build_report([await run_cases(chosen, replay_target(folder), workspace)])

    assert [c["status"] for c in (await replay())["cases"]] == recorded  # replay scores as the recording did

    change_one_word_of_the_instructions(monkeypatch)
    stale = await replay()
    assert [c["status"] for c in stale["cases"]] == ["stale", "stale"], [c["problems"] for c in stale["cases"]]
    assert breaches(stale["summary"], {}) != []

    recorded = await record()  # re-recording with the new instructions fixes it
    assert [c["status"] for c in (await replay())["cases"]] == recorded


async def test_a_call_carrying_several_items_scores_as_one_call_per_item() -> None:
    """`update_todo(todo=[a, b], completed=true)` is two completions and `delete_todo(todo=[…])` one deletion
    per item, for tool choice and for arguments (the call's other arguments apply to each item)."""
    calls = [
        {"id": "1", "name": "update_todo", "arguments": {"todo": ["milk", "bread"], "completed": True, "title": None}},
        {"id": "2", "name": "delete_todo", "arguments": {"todo": ["rent", "gym"]}},
        {"id": "3", "name": "add_todo", "arguments": {"titles": ["Eggs", "Jam"], "due_date": "2026-11-25"}},
    ]
    assert one_call_per_item(calls) == [
        {"id": "1", "name": "update_todo", "arguments": {"todo": "milk", "completed": True}},
        {"id": "1", "name": "update_todo", "arguments": {"todo": "bread", "completed": True}},
        {"id": "2", "name": "delete_todo", "arguments": {"todo": "rent"}},
        {"id": "2", "name": "delete_todo", "arguments": {"todo": "gym"}},
        {"id": "3", "name": "add_todo", "arguments": {"title": "Eggs", "due_date": "2026-11-25"}},
        {"id": "3", "name": "add_todo", "arguments": {"title": "Jam", "due_date": "2026-11-25"}},
    ]

    case = CaseSpec.model_validate(
        {
            "id": "complete_two",
            "tags": ["complete"],
            "turns": [
                {
                    "user": "milk and bread are done",
                    "expect": {
                        "tools": ["update_todo", "update_todo"],
                        "args": {
                            "update_todo": [{"todo": "Milk", "completed": True}, {"todo": "bread", "completed": True}]
                        },
                        "answer": {"contains": ["milk"], "not_contains": ["error"]},
                    },
                }
            ],
            "final": {"todos": [{"title": "Buy milk", "completed": True}]},
        }
    )

    def conversation(batch: list[dict[str, Any]]) -> Conversation:
        scored = one_call_per_item(batch)
        turn = TurnRecord(
            "milk and bread are done",
            "Done: Milk, bread.",
            scored,
            changed_nothing(scored, []),
            None,
            [],
            0.0,
            0,
            False,
            None,
            None,
        )
        return Conversation(
            [turn], final_todos=[{"title": " buy MILK", "completed": True, "description": None, "due_date": None}]
        )

    async def score(batch: list[dict[str, Any]]) -> dict[str, Any]:
        report = await dataset([case]).evaluate(lambda _: conversation(batch), name="m", progress=False)
        return build_report([report])["cases"][0]

    batched = await score(
        [{"id": "1", "name": "update_todo", "arguments": {"todo": ["milk", "bread"], "completed": True}}]
    )
    assert (batched["status"], batched["tool_f1"], batched["arg_match"], batched["final_state_match"]) == (
        "passed",
        1.0,
        1.0,
        True,
    )
    one_only = await score([{"id": "1", "name": "update_todo", "arguments": {"todo": "milk", "completed": True}}])
    assert one_only["status"] == "failed" and one_only["arg_match"] == 0.5
    assert one_only["tool_f1"] == pytest.approx(2 / 3) and one_only["turns"][0]["tool_recall"] == 0.5


def test_a_due_date_in_the_users_words_scores_as_the_date_the_tool_reads() -> None:
    """The instructions tell a model to pass "friday" as it was said; the tool reads it against the case's
    pinned date (Tuesday 2026-11-24), and so does the argument check."""
    check = ArgumentSubsets([("add_todo", {"title": "Invoice", "due_date": "2026-11-27"})])

    def scored(due: str) -> float:
        turn = SimpleNamespace(calls=[{"name": "add_todo", "arguments": {"title": "invoice", "due_date": due}}])
        return float(check.evaluate(cast(Any, SimpleNamespace(output=turn))).value)

    assert [scored(d) for d in ("2026-11-27", "friday", "Friday", "on friday")] == [1.0] * 4
    assert [scored(d) for d in ("tomorrow", "2026-11-28", "next week", "soon")] == [0.0] * 4
