"""The model a test plays, and how the app gets it.

`scripted` builds the SDK's own test double, `agents.testing.ScriptedModel`, from a compact script;
`ModelSlot` is the `ModelProvider` a test hands the runtime (`AgentRuntime(model_provider=…)`,
`create_app(model_provider=…)`) and then fills with the model each turn should run on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from agents.testing import ScriptedModel, assistant_message, function_call

from agents import Model, ModelProvider
from service.agent.offline import OfflineModel

Call = tuple[str, dict[str, Any]]
# One model call's answer: the tool calls it makes, or (a string) its final reply.
Step = Sequence[Call] | str


def scripted(steps: Sequence[Step]) -> ScriptedModel:
    """A model answering its n-th call with `steps[n]`; its k-th tool call there has the id `call_{n+1}_{k}`.

    A call beyond the script fails the turn (`UnexpectedModelCall`): a test states every call it expects.
    """
    outputs = [
        [assistant_message(step, item_id=f"msg_{n}")]
        if isinstance(step, str)
        else [function_call(name, arguments, call_id=f"call_{n}_{k}") for k, (name, arguments) in enumerate(step)]
        for n, step in enumerate(steps, start=1)
    ]
    return ScriptedModel(outputs)


def tool_outputs(model: ScriptedModel) -> dict[str, Any]:
    """Tool outputs by call id, parsed, exactly as the model was given them."""
    return {
        item["call_id"]: json.loads(item["output"])
        for call in model.calls
        if isinstance(call.input, list)
        for item in call.input
        if item.get("type") == "function_call_output"
    }


class ModelSlot(ModelProvider):
    """Gives every turn the model the test put in `model` (the runtime asks once per turn); until then,
    the offline model."""

    def __init__(self, model: Model | None = None) -> None:
        self.model = model or OfflineModel()

    def get_model(self, model_name: str | None) -> Model:
        return self.model


class GatedModel(OfflineModel):
    """The offline model, holding its first answer until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.called = asyncio.Event()
        self.gate = asyncio.Event()

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        self.called.set()
        await self.gate.wait()
        return await super().get_response(*args, **kwargs)

    async def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        self.called.set()
        await self.gate.wait()
        async for event in super().stream_response(*args, **kwargs):
            yield event
