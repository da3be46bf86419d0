"""Todo Agent Service: manage a todo list by chatting with an OpenAI Agents SDK agent."""

__version__ = "0.1.0"
