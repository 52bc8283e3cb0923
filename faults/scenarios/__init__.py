"""The faults, one coroutine each, grouped by what they break: :mod:`~faults.scenarios.datasets` (worker
kills, a server restart, a store outage during a dataset run), :mod:`~faults.scenarios.cancel`
(cancellations), :mod:`~faults.scenarios.replay` (the replay guard), :mod:`~faults.scenarios.inputs` (fuzzed
and hostile input, escapes) and :mod:`~faults.scenarios.soak` (the soak); ``faults.__main__`` lists them in
the order the suite runs them.

Every scenario builds its own :class:`~faults.harness.Stack` under a directory of its own, injects its fault,
and returns :class:`~faults.scenarios.common.Row` s: what was injected, how often the system survived, and how
much work was lost (benchmarks missing, duplicated or failed; half-written objects; orphaned processes)."""
