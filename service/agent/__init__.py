"""The agent runtime: spec, tools, memory, model providers, the offline model and the turn."""
