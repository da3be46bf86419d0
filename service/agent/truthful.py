"""What a turn really did, in words: the answer a user gets when a model cannot say it truthfully
(`service.agent.answer_check` finds that; `service.agent.recheck` and the runtime use this)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from service.agent.answer_check import MUTATING_TOOLS, tool_output


def truthful_answer(items: Sequence[Mapping[str, Any]]) -> str:
    """What the turn really did, in words, for when the model cannot say it truthfully: its changes and
    findings, and what the user must settle (which of several todos they meant, one that was not found)."""
    names = {i["call_id"]: i["name"] for i in items if i.get("type") == "function_call"}
    done: list[str] = []
    unsettled: list[str] = []
    changed = False
    for item in items:
        if item.get("type") != "function_call_output":
            continue
        output = tool_output(item)
        if isinstance(output, dict) and isinstance(output.get("error"), dict):
            unsettled.extend(_describe_error(output["error"]))
        elif isinstance(output, dict):
            tool = names.get(item.get("call_id", ""))
            done.extend(_describe(tool, output))
            changed = changed or tool in MUTATING_TOOLS
    said = [("Here is what I did: " if changed else "Here is what I found: ") + "; ".join(done) + "."] if done else []
    if unsettled:
        said += [s[0].upper() + s[1:] for s in dict.fromkeys(unsettled)]
    elif not done:
        said = ["Sorry, I didn't manage to do that: nothing on your list was changed. Could you say it again?"]
    return " ".join(said)


def _describe_error(error: dict[str, Any]) -> list[str]:
    """What a tool's error asks of the user, when it asks something; other errors are the model's to mend."""
    titles = [f'"{t.get("title")}"' for t in error.get("candidates") or [] if isinstance(t, dict)]
    if error.get("code") == "ambiguous" and titles:
        return [f"which one do you mean: {', '.join(titles[:-1])} or {titles[-1]}?"]
    if error.get("code") == "not_found" and "closest" in error:
        closest = [f'"{title}"' for title in error.get("closest") or []]
        return [
            "I couldn't find that todo on your list, so nothing was changed"
            + (f" (the closest: {', '.join(closest)})." if closest else ".")
        ]
    if error.get("code") in ("not_found", "rejected") and isinstance(error.get("message"), str):
        return [error["message"].rstrip(".") + "."]  # "there is no recent change to undo …", written for users
    return []


def _describe(tool: str | None, output: dict[str, Any]) -> list[str]:
    todo, several = output.get("todo"), [t for t in output.get("todos") or [] if isinstance(t, dict)]
    if tool == "add_todo":
        return [f'added "{t.get("title")}"' for t in ([todo] if isinstance(todo, dict) else several)]
    if tool == "update_todo":
        return [
            f'updated "{t.get("title")}" ({"done" if t.get("completed") else "open"})'
            for t in ([todo] if isinstance(todo, dict) else several)
        ]
    if tool == "delete_todo":
        deleted = output.get("deleted")
        gone = [deleted] if isinstance(deleted, dict) else deleted if isinstance(deleted, list) else []
        return [f'deleted "{t.get("title")}"' for t in gone if isinstance(t, dict)]
    if tool == "undo_last_turn":
        return [f'{t.get("did")} "{t.get("title")}"' for t in output.get("undone") or [] if isinstance(t, dict)]
    if tool == "list_todos" and isinstance(output.get("todos"), list):
        titles = [f'"{t.get("title")}"' for t in several]
        return [
            f"found {len(titles)} todo{'' if len(titles) == 1 else 's'}" + (f": {', '.join(titles)}" if titles else "")
        ]
    if tool == "get_user_context":
        known = [f"your name is {output['display_name']}"] if output.get("display_name") else []
        return [*known, f"your timezone is {output.get('timezone')}"]
    return []
