"""Validate the v2 statistics on known-effects corpora (item and run heterogeneity), many seeds.

Prints: interval coverage of the true setting rates, how often the could-be-best set holds a
truly best setting, how often the recommended setting is within the margin of the truly best,
and how often the null dial (self_consistency_n) is flagged. Usage:
    python benchmarks/bench_known_effects.py [SEEDS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from known_effects import run_seeds


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 48
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        got = run_seeds(Path(tmp), list(range(seeds)))
    for key, value in got.items():
        print(f"{key}\t{value:.3f}")
    print(f"seeds\t{seeds}\nseconds\t{time.perf_counter() - start:.1f}")


if __name__ == "__main__":
    main()
