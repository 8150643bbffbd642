"""Which code bench_ingest.py measures: the live tree's `warehouse`, or a committed revision
extracted (and byte-compiled, as pip install does) under --root."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

from benchlib import quote

REPO = Path(__file__).resolve().parent.parent


def warehouse_cmd(args: argparse.Namespace) -> str:
    if args.code_dir:
        return f"{quote(args.python)} -m warehouse"
    return quote(args.warehouse)


def code_env(code_dir: Path | None) -> dict[str, str]:
    """This environment for a measured command: no user config, and the pinned snapshot of the
    code, when there is one, shadowing the (shared, editable) tree."""
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_CONFIG"}
    if code_dir:
        env["PYTHONPATH"] = str(code_dir)
    return env


def snapshot_code(args: argparse.Namespace) -> None:
    """Extract the committed tree at --code-rev, so edits by others mid-run do not mix versions."""
    if not args.code_rev:
        args.code_dir = None
        return
    rev = subprocess.run(
        ["git", "rev-parse", "--short", args.code_rev], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    args.code_dir = args.root / f"code-{rev}"
    if not args.code_dir.exists():
        tmp = args.root / f".code-{rev}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", rev], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        # Byte-compile it, as `pip install` does: with PYTHONDONTWRITEBYTECODE=1 (set in some
        # shells) every measured process would otherwise compile our modules from source again
        # (~25 modules, 60-90 ms per command: most of the gap between a no-op and its target).
        subprocess.run([str(args.python), "-m", "compileall", "-q", str(tmp)], check=True)
        tmp.rename(args.code_dir)
    args.code_rev = rev


def ingest_available(args: argparse.Namespace, env: dict[str, str]) -> bool:
    try:
        r = subprocess.run(
            f"{warehouse_cmd(args)} ingest --help",
            shell=True,
            capture_output=True,
            timeout=60,
            check=False,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0
