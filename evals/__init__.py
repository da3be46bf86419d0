"""Evals: scripted conversations run through the real agent turn, scored, reported, gated by thresholds.

`python -m evals run|record` — see evals/README.md and DESIGN §8.
"""
