"""The one "now" every case runs at: a Tuesday morning in London. Date-relative cases ("tomorrow") resolve
from it, in the agent's turn and in the scoring of a due date the model passed in words."""

from datetime import UTC, datetime

PINNED_NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
