"""Validate the v2 statistics on known-effects corpora (item and run heterogeneity), many seeds.

Prints, per check, the rate, its count and a Wilson 95% interval: interval coverage of the true
setting rates, dial effects and paired model differences, how often the could-be-best set holds a
truly best setting, how often the recommended setting is within the margin of the truly best, and
how often the null dial (self_consistency_n) is flagged. Usage:
    python benchmarks/bench_known_effects.py [SEEDS] [FIRST_SEED] [DESIGN]
DESIGN is a key of tests/known_effects.DESIGNS (default, thin).
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from known_effects import DESIGNS, run_seeds


def wilson(k: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    mid = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, mid - half), min(1.0, mid + half)


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 48
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    design = sys.argv[3] if len(sys.argv) > 3 else "default"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        got = run_seeds(Path(tmp), list(range(first, first + seeds)), DESIGNS[design])
    for key, value in got.items():
        if key.startswith("n_"):
            continue
        n = got[f"n_{key}"]
        low, high = wilson(round(value * n), n) if n else (math.nan, math.nan)
        print(f"{key}\t{value:.3f}\t{round(value * n) if n else 0}/{n:.0f}\t[{low:.3f}, {high:.3f}]")
    print(f"design\t{design}\nseeds\t{first}..{first + seeds - 1}")
    print(f"seconds\t{time.perf_counter() - start:.1f}")


if __name__ == "__main__":
    main()
