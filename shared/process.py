"""Child processes that never outlive their parent.

``python -m shared.process CMD [ARGS...]`` asks the kernel to SIGTERM it when its parent dies, then execs
``CMD`` (the request survives ``exec``). Used to start the Temporal dev server without a ``preexec_fn``,
which is unsafe in a process that already runs threads.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent exits (Linux only; no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m shared.process CMD [ARGS...]")
    parent = os.getppid()
    die_with_parent(signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        sys.exit(1)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
