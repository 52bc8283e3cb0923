"""The fault suite: `make faults` (or `python -m faults`) injects faults into a running mechbench and prints what survived."""
