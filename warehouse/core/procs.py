"""Is a process still running? The one check behind stale temp files, spare copies and `wait`."""

from __future__ import annotations

import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """True while `pid` runs (or belongs to another user); a zombie, which has exited and only
    waits for its parent to reap it, counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: trust the signal check
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
