"""``python -m workers.cli``: the ``mechbench`` console script, as the tests and the fault harness run it."""

from workers.cli import main

main()
