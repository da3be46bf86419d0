"""Chat Completions requests without openai's per-call transform where that transform would change nothing.

`AsyncCompletions.create` passes every request body through `async_maybe_transform`, which walks the messages
and tools against their TypedDicts to rename aliased keys and format dates and files. The chat request types
have neither aliases nor formats, so for a body of plain JSON (what the Agents SDK sends) the walk returns an
equal copy, at about 0.17 ms a message and 0.4 ms for the six tools on every call: about 2.4 ms of CPU of a
two-call first turn, and more with each message of history (docs/performance.md). No setting of the client
skips it, hence this module.

`install()` lets such a body through as it is, dropping the omitted arguments as the transform does, and
hands anything else (a non-JSON value, another request type) to openai's own function. It declines, leaving
openai untouched, if a request type of the installed openai carries an alias or a format. The provider-call
instrumentation wraps `create` above this, so its spans and metrics are the same.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from openai import NotGiven, Omit
from openai._utils._transform import PropertyInfo
from openai.resources.chat.completions import completions as chat_completions
from openai.types.chat import completion_create_params
from typing_extensions import is_typeddict

log = logging.getLogger(__name__)

REQUEST_TYPES = (
    completion_create_params.CompletionCreateParamsNonStreaming,
    completion_create_params.CompletionCreateParamsStreaming,
)
# The function `create` looks up in its module on every call (openai 3.x); None if a later openai moved it.
TRANSFORM = "async_maybe_transform"
_original: Callable[[object, Any], Awaitable[object]] | None = getattr(chat_completions, TRANSFORM, None)


def carries_transforms(annotation: Any, seen: set[int] | None = None) -> bool:
    """Whether any part of a request type asks the transform for a key alias or a value format."""
    seen = set() if seen is None else seen
    if id(annotation) in seen:
        return False
    seen.add(id(annotation))
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        marked = any(isinstance(m, PropertyInfo) and (m.alias or m.format) for m in metadata)
        return marked or carries_transforms(base, seen)
    if is_typeddict(annotation):
        hints = get_type_hints(annotation, include_extras=True).values()
        return any(carries_transforms(hint, seen) for hint in hints)
    return any(carries_transforms(arg, seen) for arg in get_args(annotation))


def plain_body(data: object) -> dict[str, Any] | None:
    """The request body as it goes on the wire when it is plain JSON (omitted arguments dropped), else None."""
    if not isinstance(data, dict):
        return None
    body = {key: value for key, value in data.items() if not isinstance(value, NotGiven | Omit)}
    try:
        json.dumps(body)  # in C: cheaper than the walk, and it refuses what the transform would convert
    except (TypeError, ValueError):
        return None
    return body


async def transform_unless_plain(data: object, expected_type: object) -> object:
    if expected_type in REQUEST_TYPES and (body := plain_body(data)) is not None:
        return body
    assert _original is not None  # installed only over it
    return await _original(data, expected_type)


def install() -> bool:
    """Skip the transform for plain chat requests from now on, in this process; whether it is skipped."""
    current = getattr(chat_completions, TRANSFORM, None)
    if current is transform_unless_plain:
        return True
    if current is None or current is not _original:
        log.info("openai's chat request transform is not where this openai version had it: kept as it is")
        return False
    if any(carries_transforms(request_type) for request_type in REQUEST_TYPES):
        log.info("this openai's chat request types rename or format values: its request transform is kept")
        return False
    setattr(chat_completions, TRANSFORM, transform_unless_plain)
    return True
