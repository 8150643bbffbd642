"""Start `warehouse view` for real (a subprocess serving 127.0.0.1) and fetch its pages."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def served(db: Path, *extra: str) -> Iterator[str]:
    """The base URL of a `warehouse view` process on a free port; stopped on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAREHOUSE_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "warehouse", "view", "--db", str(db), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url:
            raise AssertionError(f"warehouse view did not start: {proc.communicate(timeout=30)[1]}")
        yield url.rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def get(url: str) -> tuple[int, str]:
    """(status, body) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8")
