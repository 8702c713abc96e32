"""Whether a process is still there: a trainer run, a model conversion in progress."""
from __future__ import annotations

import os


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:  # a finished child we started ourselves is a zombie until reaped: that is dead
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True
