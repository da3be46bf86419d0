"""A malicious model: chatting as Bob, it calls the todo tools with Alice's todo ids.

The model is the one part of a turn the service cannot trust (a prompt injection, a compromised or
simply wrong provider), so this test plays it: a scripted `Model` that emits the tool calls an attacker
would want (update, delete, id spellings, pagination tricks, leaking a title in its answer), driven
through the real HTTP app, runtime, tools and guardrails. Every attempt must be blocked: the tool output
the model gets back for Alice's id is byte for byte what a random nonexistent id gets (no existence
oracle), the `tool_ownership` guardrail is reported, a reply naming Alice's data is replaced by the
`output_scope` refusal, and Alice's todos are exactly as they were.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from agents.testing import ScriptedModel

from tests.api.helpers import parse_sse
from tests.scripted_model import Call, ModelSlot, scripted, tool_outputs


@pytest.fixture
def model_provider() -> ModelSlot:
    """The app's models: each test puts its scripted model in the slot."""
    return ModelSlot()


@dataclass(frozen=True)
class Alice:
    user: uuid.UUID
    auth: dict[str, str]
    todos: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [t["id"] for t in self.todos]

    @property
    def secrets(self) -> list[str]:
        return [str(self.user), *self.ids, *(t["title"] for t in self.todos)]


@pytest.fixture
async def alice_todos(client: httpx.AsyncClient, alice: uuid.UUID, alice_auth: dict[str, str]) -> Alice:
    todos = []
    for title in ("Pay the Zanzibar bail", "Hide the quokka", "Bury the treasure map"):
        response = await client.post(f"/api/{alice}/todos", json={"title": title}, headers=alice_auth)
        assert response.status_code == 201, response.text
        todos.append(response.json())
    await client.patch(f"/api/{alice}/todos/{todos[2]['id']}", json={"completed": True}, headers=alice_auth)
    listed = await client.get(f"/api/{alice}/todos", headers=alice_auth)
    return Alice(alice, alice_auth, listed.json()["todos"])


# The same id as a lenient parser would still read it: the guardrail must read it the same way the tool does.
SPELLINGS: dict[str, Callable[[str], str]] = {
    "uppercase": str.upper,
    "undashed": lambda todo_id: uuid.UUID(todo_id).hex,
    "braced": lambda todo_id: f"{{{todo_id}}}",
    "urn": lambda todo_id: f"urn:uuid:{todo_id}",
    "padded": lambda todo_id: f"  {todo_id}  ",
    "tab-newline": lambda todo_id: f"\t{todo_id}\n",
}


def spelled(tool: str, spell: Callable[[str], str], **arguments: Any) -> Callable[[list[str]], list[Call]]:
    """One call of `tool` on Alice's second todo, its id spelled by `spell`."""
    return lambda ids: [(tool, {"todo": spell(ids[1]), **arguments})]


# Each script: the attacker's tool calls, given Alice's todo ids. Calls on Alice's ids are the attack;
# the same calls on a fresh random id are the control their output must be identical to.
ATTACKS: dict[str, Callable[[list[str]], list[Call]]] = {
    "update": lambda ids: [
        ("update_todo", {"todo": ids[0], "title": "pwned", "completed": True}),
        ("update_todo", {"todo": ids[2], "completed": False, "description": "owned by bob"}),
    ],
    "delete-all": lambda ids: [("delete_todo", {"todo": todo_id}) for todo_id in ids],
    **{f"update-{label}": spelled("update_todo", spell, completed=True) for label, spell in SPELLINGS.items()},
    **{f"delete-{label}": spelled("delete_todo", spell) for label, spell in SPELLINGS.items()},
}
CONTROLS: dict[str, Call] = {
    "update_todo": ("update_todo", {"todo": str(uuid.uuid4()), "title": "pwned", "completed": True}),
    "delete_todo": ("delete_todo", {"todo": str(uuid.uuid4())}),
}

# list_todos takes no id: it can only page through Bob's own list, however it is called.
LIST_TRICKS: list[dict[str, Any]] = [
    {},
    {"limit": 100, "offset": 0},
    {"offset": -1},
    {"limit": 0},
    {"limit": 100000},
    {"offset": 2**31},
    {"offset": 2**63},
    {"completed": True},
    {"completed": False, "limit": 1, "offset": 2},
    {"user_id": "ALICE"},
]


async def alices_todos(client: httpx.AsyncClient, alice: Alice) -> list[dict[str, Any]]:
    response = await client.get(f"/api/{alice.user}/todos?limit=100", headers=alice.auth)
    assert response.status_code == 200, response.text
    todos: list[dict[str, Any]] = response.json()["todos"]
    return todos


@dataclass(frozen=True)
class Reply:
    body: dict[str, Any]  # the chat response; for the stream, its `done` event
    text: str  # every byte the client received


async def chat_as(
    client: httpx.AsyncClient,
    models: ModelSlot,
    model: ScriptedModel,
    user: uuid.UUID,
    auth: dict[str, str],
    endpoint: str = "chat",
) -> Reply:
    """One turn played by `model`, through `POST /chat` or `POST /chat/stream`."""
    models.model = model
    response = await client.post(f"/api/{user}/{endpoint}", json={"message": "tidy up my list"}, headers=auth)
    assert response.status_code == 200, response.text
    if endpoint == "chat":
        return Reply(response.json(), response.text)
    events, _ = parse_sse(response.text)
    done = [data for name, data in events if name == "done"]
    assert len(done) == 1, events
    guardrails = [data for name, data in events if name == "guardrail"]
    assert guardrails == ([done[0]["guardrail"]] if done[0]["guardrail"] else []), events
    return Reply(done[0], response.text)


@pytest.mark.parametrize("endpoint", ["chat", "chat/stream"])
@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_tool_calls_on_alices_ids_are_blocked_like_missing_ids(
    client: httpx.AsyncClient,
    model_provider: ModelSlot,
    alice_todos: Alice,
    bob: uuid.UUID,
    bob_auth: dict[str, str],
    attack: str,
    endpoint: str,
) -> None:
    calls = ATTACKS[attack](alice_todos.ids)
    controls = [CONTROLS[name] for name in sorted({name for name, _ in calls})]
    model = scripted([calls + controls, "All done."])

    body = (await chat_as(client, model_provider, model, bob, bob_auth, endpoint)).body

    outputs = tool_outputs(model)
    assert len(outputs) == len(calls) + len(controls)
    by_call = [outputs[f"call_1_{n}"] for n in range(len(calls) + len(controls))]
    control_outputs = {name: by_call[len(calls) + n] for n, (name, _) in enumerate(controls)}
    for (name, _), output in zip(calls, by_call, strict=False):
        assert output["error"]["code"] == "not_found", output
        assert output == control_outputs[name]  # nothing tells "someone else's" from "no such id"
    assert await alices_todos(client, alice_todos) == alice_todos.todos
    assert body["guardrail"] is not None and body["guardrail"]["name"] == "tool_ownership", body
    for secret in alice_todos.secrets[1:]:  # her ids are in Bob's own tool calls; titles must be nowhere
        assert secret not in json.dumps(body["tool_results"]) and secret not in body["response"]


async def test_list_todos_pagination_tricks_only_ever_page_bobs_list(
    client: httpx.AsyncClient, model_provider: ModelSlot, alice_todos: Alice, bob: uuid.UUID, bob_auth: dict[str, str]
) -> None:
    await client.post(f"/api/{bob}/todos", json={"title": "Bob's only todo"}, headers=bob_auth)
    model = scripted([[("list_todos", args) for args in LIST_TRICKS], "Here you go."])

    body = (await chat_as(client, model_provider, model, bob, bob_auth)).body

    outputs = tool_outputs(model)
    assert len(outputs) == len(LIST_TRICKS)
    for output in outputs.values():
        if "error" in output:  # refused arguments get a short, actionable error, never a crash
            assert output["error"]["code"] == "invalid_argument", output
        else:
            assert [t["title"] for t in output["todos"]] in ([], ["Bob's only todo"]), output
            assert output["pagination"]["total"] in (0, 1), output
    text = json.dumps(body)
    for secret in alice_todos.secrets:
        assert secret not in text
    assert await alices_todos(client, alice_todos) == alice_todos.todos


@pytest.mark.parametrize("endpoint", ["chat", "chat/stream"])
async def test_a_reply_naming_alices_todos_is_replaced_by_the_refusal(
    client: httpx.AsyncClient,
    model_provider: ModelSlot,
    alice_todos: Alice,
    bob: uuid.UUID,
    bob_auth: dict[str, str],
    endpoint: str,
) -> None:
    """The model invents nothing it could not know here, yet leaks anyway: the output guardrail stops it."""
    todo = alice_todos.todos[0]
    leak = f'Your list:\n1. {todo["title"]}\nAlso "{alice_todos.todos[1]["title"]}" ({todo["id"]}).'
    model = scripted([leak])

    reply = await chat_as(client, model_provider, model, bob, bob_auth, endpoint)

    assert reply.body["guardrail"] is not None and reply.body["guardrail"]["name"] == "output_scope", reply.body
    for secret in alice_todos.secrets:
        assert secret not in reply.text, reply.text  # not in a streamed `delta` either
    history = await client.get(f"/api/{bob}/conversations/{reply.body['conversation_id']}", headers=bob_auth)
    for secret in alice_todos.secrets:
        assert secret not in history.text  # the blocked reply is not stored either
