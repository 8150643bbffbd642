"""Measurement helpers for the benchmarks: one case = one subprocess under /usr/bin/time -v.

Wall time is taken around the subprocess with perf_counter (time -v rounds to 10 ms); peak RSS,
user and system CPU come from time -v. Because time -v reports the largest single process, a
sampler also sums the RSS of the whole process tree every 0.2 s ("tree RSS") so that a
multi-process ingest cannot hide memory.
"""

from __future__ import annotations

import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TIME_BIN = "/usr/bin/time"


@dataclass
class Result:
    corpus: str
    case: str
    round: int
    wall: float
    user: float = 0.0
    sys: float = 0.0
    rss_mib: float = 0.0
    tree_rss_mib: float = 0.0
    cpu_stall: float = 0.0  # share of wall time some task waited for a CPU (/proc/pressure/cpu)
    rc: int = 0
    stdout: str = ""
    stderr_tail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        rest = stat[stat.rfind(b")") + 2 :].split()
        kids.setdefault(int(rest[1]), []).append(int(name))
    return kids


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeSampler(threading.Thread):
    """Peak of the summed RSS of a process and all its descendants (sampled)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            kids = _children_map()
            todo, total = [self.pid], 0
            while todo:
                pid = todo.pop()
                total += _rss_kib(pid)
                todo.extend(kids.get(pid, []))
            self.peak_kib = max(self.peak_kib, total)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def cpu_pressure_us() -> int:
    """Total microseconds some runnable task waited for a CPU (PSI); 0 if unavailable."""
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some"):
                return int(line.rsplit("total=", 1)[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def parse_time_v(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, pattern in (
        ("user", r"User time \(seconds\): ([\d.]+)"),
        ("sys", r"System time \(seconds\): ([\d.]+)"),
        ("rss_kib", r"Maximum resident set size \(kbytes\): (\d+)"),
    ):
        m = re.search(pattern, text)
        if m:
            out[key] = float(m.group(1))
    return out


def run_case(
    corpus: str,
    case: str,
    rnd: int,
    cmd: str,
    *,
    cwd: Path,
    log_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> Result:
    """Run `sh -c cmd` under /usr/bin/time -v and measure it."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{corpus}.{case}.r{rnd}".replace("/", "_").replace(" ", "_")
    tfile, efile = log_dir / f"{stem}.time", log_dir / f"{stem}.stderr"
    argv = [TIME_BIN, "-v", "-o", str(tfile), "sh", "-c", cmd]
    with open(efile, "wb") as err:
        stall0 = cpu_pressure_us()
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=err, env=env)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        wall = time.perf_counter() - start
        stall = (cpu_pressure_us() - stall0) / 1e6 / max(wall, 1e-9)
        sampler.stop()
    tv = parse_time_v(tfile.read_text(errors="replace") if tfile.exists() else "")
    tail = efile.read_text(errors="replace")[-2000:]
    return Result(
        corpus,
        case,
        rnd,
        wall,
        tv.get("user", 0.0),
        tv.get("sys", 0.0),
        tv.get("rss_kib", 0.0) / 1024,
        sampler.peak_kib / 1024,
        stall,
        proc.returncode,
        out.decode(errors="replace").strip(),
        tail,
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_s(x: float) -> str:
    if math.isnan(x):
        return "-"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 10 else f"{x:.1f}"


def quote(path: Path | str) -> str:
    return shlex.quote(str(path))


def machine_info(repo: Path, python: str) -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{mem_kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass

    def sh(cmd: list[str]) -> str:
        try:
            done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=30, check=False)
            return done.stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""

    probe = (
        "import sys, duckdb, pyarrow, orjson; print(sys.version.split()[0], duckdb.__version__, "
        "pyarrow.__version__, orjson.__version__)"
    )
    versions = sh([python, "-c", probe])
    dirty = [line for line in sh(["git", "status", "--porcelain"]).splitlines() if line]
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "host_cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "kernel": platform.release(),
        "versions": versions,
        "git_commit": sh(["git", "rev-parse", "--short", "HEAD"]),
        "git_dirty_paths": len(dirty),
        "loadavg_start": os.getloadavg(),
    }
