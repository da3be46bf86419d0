"""The evals in CI: the offline model over every case, every committed cassette replayed, both gated by
`evals/thresholds.toml`; a stale cassette and a broken tool are caught (issue 5, Done-when 3 and 4)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from evals import runner as evals_runner
from evals.__main__ import _replay_target
from evals.cases import Case, load_cases
from evals.cassettes import recorded_models, write_meta
from evals.report import breaches, build_report, load_thresholds
from evals.runner import Target, Workspace, run_cases
from service import todos
from service.agent.spec import load_spec
from tests.fake_llm import FakeLLM, Reply, TextReply, ToolCallReply, serve_fake_llm

CASES = load_cases()
SECRET = "sk-test-do-not-store-0123456789"


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "evals")


def cases(*ids: str) -> list[Case]:
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
    results = await run_cases(CASES, Target(name="offline", mode="offline"), workspace)
    report = build_report(results)
    assert report["summary"]["offline"]["error"] == 0, [c["problems"] for c in report["cases"] if c["error"]]
    assert breaches(report["summary"], load_thresholds()) == []


@pytest.mark.parametrize("folder", recorded_models() or [None], ids=lambda f: f.name if f else "none")
async def test_committed_cassettes_replay_fresh_and_meet_thresholds(folder: Path | None, workspace: Workspace) -> None:
    if folder is None:
        pytest.skip("no recorded model under evals/cassettes yet")
    results = await run_cases(CASES, _replay_target(folder), workspace)
    stale = [r.case.id for r in results if r.status == "stale"]
    assert stale == [], f"stale cassettes in {folder.name}: re-record them"
    assert breaches(build_report(results)["summary"], load_thresholds()) == []


async def test_a_tool_ignoring_completed_fails_the_final_state_metric(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_update = todos.update_todo

    async def broken_update(*args, completed=None, **kwargs):
        return await real_update(*args, **kwargs)  # drops `completed` on the floor

    chosen = [c for c in CASES if "complete" in c.tags or "reopen" in c.tags]
    healthy = await run_cases(chosen, Target(name="offline", mode="offline"), workspace)
    monkeypatch.setattr(todos, "update_todo", broken_update)
    broken = await run_cases(chosen, Target(name="offline", mode="offline"), workspace)

    before = build_report(healthy)["summary"]["offline"]["final_state_match"]
    after = build_report(broken)["summary"]["offline"]
    assert after["final_state_match"] < before
    assert any("final_state_match" in p for p in breaches({"offline": after}, load_thresholds()))


def change_one_word_of_the_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request the agent sends now differs from its recording by one word of the system prompt."""
    spec = load_spec()
    edited = dataclasses.replace(spec, instructions=spec.instructions.replace("short", "brief", 1))
    assert edited.instructions != spec.instructions
    monkeypatch.setattr(evals_runner, "load_spec", lambda: edited)  # the runner gives each case its spec


@pytest.mark.parametrize("folder", recorded_models() or [None], ids=lambda f: f.name if f else "none")
async def test_one_changed_word_makes_the_committed_cassettes_stale(
    folder: Path | None, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    if folder is None:
        pytest.skip("no recorded model under evals/cassettes yet")
    change_one_word_of_the_instructions(monkeypatch)
    results = await run_cases(cases("add_single", "list_all"), _replay_target(folder), workspace)
    assert [r.status for r in results] == ["stale", "stale"], [r.problems for r in results]
    report = build_report(results)
    assert report["summary"][folder.name]["stale"] == 2
    assert breaches(report["summary"], load_thresholds()) != []


def _responder(body: dict) -> Reply:
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

    async def record() -> None:
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
            results = await run_cases(chosen, target, workspace)
        assert [r.status for r in results if r.status in ("error", "stale")] == [], [r.problems for r in results]

    write_meta(folder, {"model": "fake-model", "provider": "openai-compatible"})
    await record()
    for cassette in folder.glob("*.yaml"):
        text = cassette.read_text()
        assert SECRET not in text and "authorization" not in text.lower() and "cookie" not in text.lower()

    replayed = await run_cases(chosen, _replay_target(folder), workspace)
    assert [r.status for r in replayed] != ["stale", "stale"] and all(r.status != "stale" for r in replayed)

    change_one_word_of_the_instructions(monkeypatch)
    stale = await run_cases(chosen, _replay_target(folder), workspace)
    assert [r.status for r in stale] == ["stale", "stale"], [r.problems for r in stale]
    assert breaches(build_report(stale)["summary"], {}) != []

    await record()  # re-recording with the new instructions fixes it
    fresh = await run_cases(chosen, _replay_target(folder), workspace)
    assert all(r.status != "stale" for r in fresh)
