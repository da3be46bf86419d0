"""The performance benchmark behind `make bench`: `python -m bench` (see docs/performance.md)."""
