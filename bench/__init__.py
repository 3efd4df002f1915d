"""`make bench`: open-loop load (vegeta) against the real stack, floors, and a report.

Run ``python -m bench`` (full, a few minutes) or ``python -m bench --smoke`` (seconds).
Results go to ``results/bench-<timestamp>.{json,md}`` and PNG plots beside them.
"""
