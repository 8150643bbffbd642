"""Named fault points for crash tests: WAREHOUSE_KILL_AT=<name> SIGKILLs the process there.

Only the crash tests set the variable; unset, a fault point costs one dict lookup.
"""

from __future__ import annotations

import os
import signal


def fault_point(name: str) -> None:
    if os.environ.get("WAREHOUSE_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
