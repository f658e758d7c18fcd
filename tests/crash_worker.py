"""``parole worker`` that kills itself with SIGKILL at one chosen point of an ingest (for tests/test_ingest_crash.py).

Usage: ``python tests/crash_worker.py MODULE:ATTRIBUTE before|after N``: the whole worker (its
process group, as ``kill -9 -PGID`` would) dies on the N-th call of that function, just
before it runs or just after it returns. Nothing else about the worker changes.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys


def arm(target: str, when: str, nth: int) -> None:
    module_name, _, path = target.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    original = getattr(owner, name)
    calls = [0]

    @functools.wraps(original)
    def dying(*args, **kwargs):
        calls[0] += 1
        if when == "before" and calls[0] == nth:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        result = original(*args, **kwargs)
        if when == "after" and calls[0] == nth:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        return result

    setattr(owner, name, dying)


if __name__ == "__main__":
    target, when, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arm(target, when, nth)
    from parole.cli import main

    sys.argv = ["parole", "worker"]
    main()
