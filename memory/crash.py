"""Crash points for the faults suite (tests/faults): with MEMOLOOP_CRASH_AT=<name> in its
environment, a process kills itself with SIGKILL at that point, as a power cut would, so a test
can stop it exactly where a crash would hurt most. Unset (always, for users), a point does nothing."""
from __future__ import annotations

import os
import signal

ENV_VAR = "MEMOLOOP_CRASH_AT"


def point(name: str) -> None:
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
