"""A real model's answer, checked before the user reads it (`answer_check` finds what is wrong), with one
second chance: the model is re-asked once with a corrective note, and an answer still wrong is replaced
by what the turn really did.

The re-ask may insist on a tool call (`Review.tool_choice`): after a claimed-but-undone action a small
model repeats its claim unless its next call must be a call, and a reply that is only a tool's name is a
call the model failed to make. The SDK resets `tool_choice` to `auto` after that call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, NamedTuple, cast

import openai
from agents.items import TResponseInputItem

from agents import (
    Agent,
    AgentsException,
    FunctionTool,
    ModelSettings,
    OutputGuardrailTripwireTriggered,
    Runner,
    RunResult,
)
from service.agent import answer_check, approvals, intent_check
from service.agent.context import TurnContext
from service.agent.guardrails import OUTPUT_SCOPE, REFUSALS
from service.agent.markup import strip_markup
from service.agent.truthful import truthful_answer
from service.agent.turn_items import assistant_message, completed_tool_items, tool_items

log = logging.getLogger(__name__)


class Checked(NamedTuple):
    answer: str
    items: list[TResponseInputItem]  # the turn's items to keep
    retried: Sequence[TResponseInputItem] = ()  # what the re-ask added, for a stream to report
    paused: RunResult | None = None  # the re-ask's run, stopped at calls that wait for the user's yes


class AnswerRecheck:
    """The re-ask, for one agent: built once per process, with the agent's variants that force a call."""

    def __init__(self, agent: Agent[TurnContext], tool_names: Sequence[str]) -> None:
        self.agent = agent
        # What each tool does, by name: a reply may say a tool's description back instead of calling it.
        self.tools = {
            tool.name: tool.description
            for tool in agent.tools
            if isinstance(tool, FunctionTool) and tool.name in tool_names
        }
        # What a reply must not merely recite; static (the date travels with the turn, not in them).
        self.instructions = agent.instructions if isinstance(agent.instructions, str) else ""
        self._forcing: dict[str, Agent[TurnContext]] = {
            choice: agent.clone(model_settings=agent.model_settings.resolve(ModelSettings(tool_choice=choice)))
            for choice in ["required", *tool_names]
        }

    def settled(self, answer: str, new_items: list[TResponseInputItem]) -> tuple[str, list[TResponseInputItem]]:
        """A resumed run's answer (after the user's yes or no): not re-asked, since the run already did what
        was approved, but one that is wrong ("I can't assist with that" after a no) is replaced by what the
        turn really did."""
        tools_done = tool_items(new_items)
        found = answer_check.review(answer, [dict(i) for i in new_items], self.tools, instructions=self.instructions)
        if found is None:
            return answer, new_items
        answer = truthful_answer([dict(i) for i in tools_done])
        return answer, [*tools_done, assistant_message(answer)]

    async def checked(
        self,
        answer: str,
        new_items: list[TResponseInputItem],
        turn_input: list[TResponseInputItem],
        run_options: dict[str, Any],
    ) -> Checked:
        """The answer and items to keep; a wrong answer is re-asked once, one still wrong replaced."""
        context: TurnContext = run_options["context"]
        tools_done = tool_items(new_items)
        known = context.snapshot.titles if context.snapshot else None
        items = [dict(i) for i in new_items]
        # What the user asked for first: a claim the model made up matters less than the call it left out.
        found = intent_check.left_undone(
            answer, [dict(i) for i in turn_input], items, context.today, context.snapshot
        ) or answer_check.review(answer, items, self.tools, context.request, self.instructions, known)
        if found is None:
            return Checked(answer, new_items)
        if not found.reask:
            log.info("answer check: %s; answering with what the turn did", found.problem)
            answer = truthful_answer([dict(i) for i in tools_done])
            return Checked(answer, [*tools_done, assistant_message(answer)])
        log.info("answer check: %s; re-asking the model once", found.problem)
        retry_input = [*turn_input, *tools_done, cast(TResponseInputItem, {"role": "system", "content": found.note})]
        agent = self._forcing.get(found.tool_choice or "", self.agent)
        try:
            result = await Runner.run(agent, retry_input, **run_options)
            retried = approvals.run_items(result.new_items)
            if result.interruptions:  # the re-ask made a call that waits for the user's yes: the turn asks
                return Checked("", [*tools_done, *retried], tool_items(retried), result)
            second = str(result.final_output)
        except OutputGuardrailTripwireTriggered as exc:
            context.record_guardrail(OUTPUT_SCOPE, REFUSALS[OUTPUT_SCOPE])
            retried, second = list(completed_tool_items(exc)), REFUSALS[OUTPUT_SCOPE]
            return Checked(second, [*tools_done, *retried, assistant_message(second)], retried)
        except (AgentsException, openai.APIError) as exc:
            log.warning("the re-asked model call failed: %s: %s", type(exc).__name__, exc)
            retried, second = list(completed_tool_items(exc)) if isinstance(exc, AgentsException) else [], ""
        retried_tools = tool_items(retried)
        everything = [dict(i) for i in [*tools_done, *retried_tools]]
        if context.repeating:
            again: answer_check.Review | None = answer_check.Review("repeating", found.note)
        else:
            again = answer_check.review(second, everything, self.tools, context.request, self.instructions, known)
            if again is None and answer_check.echoes(second, found.note):
                again = answer_check.Review("echo", found.note)
        if again is not None:
            cleaned = strip_markup(second)
            usable = again.problem == "markup" and cleaned and answer_check.review(cleaned, everything) is None
            # A turn that made no call and asked for none ("what can you do?") gets the offline model's reply.
            fallback = None if everything else intent_check.reply(turn_input, context.today)
            second = cleaned if usable else fallback or truthful_answer(everything)
            log.info(
                "answer check: %s after the re-ask; answering %s", again.problem, "cleaned" if usable else "truthfully"
            )
            retried = [*retried_tools, assistant_message(second)]
        return Checked(second, [*tools_done, *retried], retried_tools)
