"""Model providers: offline, OpenAI (Responses API) and OpenAI-compatible (Chat Completions).

A real provider is wrapped in `FallbackModel`, so a turn whose provider times out, drops the
connection, answers 5xx or rate-limits us is finished by the offline model instead of failing.
`SettingsModelProvider` is the SDK `ModelProvider` the service builds from its settings; the runtime
takes any `ModelProvider` in its place (tests, evals and the benchmark pass their own).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import openai
from agents.items import TResponseStreamEvent

from agents import Model, ModelProvider, ModelResponse, OpenAIChatCompletionsModel, OpenAIResponsesModel
from service.agent import chat_requests
from service.agent.offline import OfflineModel
from service.agent.offline.model import MODEL_NAME as OFFLINE_MODEL_NAME
from service.agent.offline.model import stream_events
from service.config import Settings
from service.telemetry import ChatSpanModel

log = logging.getLogger(__name__)


def fallback_reason(exc: BaseException) -> str | None:
    """Why a provider error should hand the turn to the offline model, or None to let it propagate."""
    if isinstance(exc, openai.APITimeoutError | TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return "connection_error"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        return f"http_{exc.status_code}"
    return None


def _empty_completion(event: TResponseStreamEvent) -> bool:
    """A stream's end with nothing in it: what the SDK makes of a body that was not a stream."""
    return event.type == "response.completed" and not event.response.output


class FallbackModel(Model):
    """One turn's model: the provider's, until it fails transiently; then the offline model, for good.

    Made per turn, so its `fallback_reason` is that turn's alone. Staying on the offline model once it
    took over keeps one turn from flapping between two models.
    """

    def __init__(self, primary: Model, offline: Model) -> None:
        self._primary = primary
        self._offline = offline
        self.fallback_reason: str | None = None

    def _fall_back(self, exc: BaseException) -> bool:
        reason = fallback_reason(exc)
        if reason is None:
            return False
        log.warning("model provider failed (%s); the offline model finishes the turn", reason)
        self.fallback_reason = reason
        return True

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        if self.fallback_reason is None:
            try:
                return await self._primary.get_response(*args, **kwargs)
            except Exception as exc:
                if not self._fall_back(exc):
                    raise
        return await self._offline.get_response(*args, **kwargs)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        if self.fallback_reason is None:
            started = False
            try:
                async for event in self._primary.stream_response(*args, **kwargs):
                    if not started and _empty_completion(event):
                        break  # the provider sent no stream at all: ask again below, without streaming
                    started = True
                    yield event
                else:
                    if started:
                        return
            except Exception as exc:
                # Once events reached the caller, switching models would splice two answers together.
                if started or not self._fall_back(exc):
                    raise
            if self.fallback_reason is None:
                # Some servers answer `"stream": true` with one plain JSON body; the SDK then reads an empty
                # stream, and the turn ended with no answer and half stored. The same call, unstreamed, is
                # answered (by the offline model if the provider then fails), replayed as a stream.
                log.warning("the model provider answered a streamed call without a stream; asking again unstreamed")
                for event in stream_events(await self.get_response(*args, **kwargs)):
                    yield event
                return
        async for event in self._offline.stream_response(*args, **kwargs):
            yield event


def configured_model_name(settings: Settings, spec_model: str) -> str:
    """The name a turn's model goes by in responses and traces: `offline`, or the provider's model."""
    return OFFLINE_MODEL_NAME if settings.resolved_provider == "offline" else settings.agent_model or spec_model


class SettingsModelProvider(ModelProvider):
    """The SDK's `ModelProvider` for the models the settings name: the offline model alone, or the
    provider's model (Responses API for `openai`, Chat Completions otherwise) with the offline model
    behind it (`FallbackModel`). `get_model` is asked once per turn, so each turn gets its own fallback.

    `offline` stands in for the offline model (the benchmark's instant model); `wrap` is given every model
    made, the provider's and the offline one, before use (evals count tokens per model with it).
    """

    def __init__(
        self,
        settings: Settings,
        spec_model: str,
        *,
        offline: Model | None = None,
        wrap: Callable[[Model], Model] = lambda model: model,
    ) -> None:
        self.kind = settings.resolved_provider
        self.model_name = configured_model_name(settings, spec_model)
        self._wrap = wrap
        self._client: openai.AsyncOpenAI | None = None
        self._primary: dict[str, Model] = {}
        if self.kind != "offline":
            self._client = client = openai.AsyncOpenAI(
                api_key=settings.openai_api_key or "unused",  # local servers often need no key
                base_url=settings.openai_base_url,
                timeout=settings.model_timeout_s,
                max_retries=settings.model_max_retries,
            )
            self._primary_model(client, self.model_name)  # made once per process, at start-up
        # The OpenAI instrumentation traces provider calls; the offline model makes none, so it gets its own span.
        self._offline = wrap(
            ChatSpanModel(offline or OfflineModel(), provider=OFFLINE_MODEL_NAME, name=OFFLINE_MODEL_NAME)
        )

    def _primary_model(self, client: openai.AsyncOpenAI, name: str) -> Model:
        if name not in self._primary:
            model_class = OpenAIResponsesModel if self.kind == "openai" else OpenAIChatCompletionsModel
            if model_class is OpenAIChatCompletionsModel:
                chat_requests.install()
            self._primary[name] = self._wrap(model_class(model=name, openai_client=client))
        return self._primary[name]

    def get_model(self, model_name: str | None) -> Model:
        """One turn's model (`model_name`: the provider's model; None for the configured one)."""
        if self._client is None:  # the offline kind
            return self._offline
        return FallbackModel(self._primary_model(self._client, model_name or self.model_name), self._offline)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
