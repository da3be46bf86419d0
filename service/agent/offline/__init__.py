"""The offline model: a deterministic stand-in for an LLM that drives the todo tools.

It is the embedded default when no API key is configured, the fallback that finishes a turn when the
real provider fails, and a baseline in evals. So it behaves like a model rather than a command
parser: on every call it re-reads the conversation (history, the latest user message and the tool
calls this turn has already made), decides the next step - tool calls, all of them at once when a
message asks several things, or the final answer - and returns it through the SDK's `Model`
interface. It keeps no state between calls, which is what lets it take over a turn half-way
through, from another model's tool calls.

It never guesses with data: a todo is changed only when the user's words pick it out of the list
that `list_todos` returned this turn, and answers are written from tool outputs, not assumed.

Same input, same output: no randomness and no clock ("today" is the `Current date:` line that the
runtime sends before the user's message; `dateparser` counts from it).

A message goes through one step per module, each depending only on those before it: `text`,
`dates` and `vocabulary` (one table of words per intent) -> `conversation` (the SDK items as turns)
-> readers, one per kind of intent (`chatter`, `adds`, `queries`, `changes`) -> `reading` (a message
cut into clauses, each read as one intent: several actions in one message; then read in the context
of our previous answer) -> `answers` (replies from tool outputs) ->
`references` (which todos "the milk", "the second one" and "it" mean) -> `planner` (the next step)
-> `model` (the SDK `Model` adapter, with its Responses stream events).
"""

from service.agent.offline.model import OfflineModel

__all__ = ["OfflineModel"]
