"""The process runtime: where heavy work runs, apart from the worker's event loop.

- :mod:`runtime.forkserver` imports the engines once and forks a child per heavy job;
- :mod:`runtime.supervisor` starts the fork server, runs one job per child, relays its progress and stops it;
- :mod:`runtime.jobs` holds the heavy jobs themselves, one module per domain (engine calls plus store reads and
  writes), looked up through the registry in :mod:`shared.heavy`;
- :mod:`runtime.sandbox` runs untrusted scripts in a fresh interpreter (:mod:`runtime.sandbox_child`), which
  confines itself first (:mod:`runtime.confine`: rlimits, Landlock, seccomp) and then exports what the script
  built (:mod:`runtime.sandbox_exports`).

The Temporal adapters in :mod:`activities` call the supervisor; the supervisor turns a failed job into the
Temporal error the retry policy reads (its only use of temporalio).
"""
