"""Recording against a real open model on this machine: model install and a small OpenAI-compatible endpoint.

Nothing here is imported by `make test` or `make eval`; it runs in the recording virtualenv only.
"""
