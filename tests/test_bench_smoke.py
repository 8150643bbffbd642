"""Smoke test of the benchmark scripts on a tiny corpus: they run and report, nothing is timed."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
WAREHOUSE = Path(sys.executable).parent / "warehouse"


def _gen(out: Path, *extra: str) -> dict:
    subprocess.run(
        [sys.executable, str(BENCH / "gen_corpus.py"), str(out), *extra], check=True, capture_output=True
    )
    return json.loads((out / "_catalog" / "gen_manifest.json").read_text())


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "_catalog" not in p.parts
    }


def _count_lines(root: Path) -> dict[str, int]:
    """Independent recount of the generator's ground truth."""
    counts = {"headers": 0, "steps": 0, "run_ends": 0, "bad_lines": 0, "blank_lines": 0, "torn_tails": 0}
    for path in [*root.rglob("*.jsonl"), *root.rglob("*.jsonl.gz")]:
        data = path.read_bytes()
        lines = (gzip.decompress(data) if path.suffix == ".gz" else data).split(b"\n")
        if lines.pop():
            counts["torn_tails"] += 1
        for line in lines:
            if not line.strip():
                counts["blank_lines"] += 1
                continue
            try:
                rec = json.loads(line.decode("utf-8"), parse_constant=_reject)
            except ValueError:
                counts["bad_lines"] += 1
                continue
            if not isinstance(rec, dict):
                counts["bad_lines"] += 1
            elif rec.get("run_header"):
                counts["headers"] += 1
            elif rec.get("run_end"):
                counts["run_ends"] += 1
            else:
                counts["steps"] += 1
    return counts


def _reject(name: str) -> None:
    raise ValueError(name)


def test_generator_is_deterministic_and_its_manifest_is_true(tmp_path: Path) -> None:
    args = ("--files", "40", "--steps", "4", "--dirty-frac", "0.5", "--seed", "3")
    one = _gen(tmp_path / "a", *args, "--jobs", "1")
    two = _gen(tmp_path / "b", *args, "--jobs", "2")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert one["counts"] == two["counts"]
    recount = _count_lines(tmp_path / "a")
    assert recount == {k: one["counts"][k] for k in recount}
    assert one["counts"]["bad_lines"] > 0 and one["counts"]["torn_tails"] > 0
    header = next(
        json.loads(line)
        for p in sorted((tmp_path / "a").rglob("*_state*.jsonl"))
        for line in p.read_text(errors="replace").splitlines()
        if line.startswith('{"run_header": true')
    )
    assert len(header["config"]["dials"]) == 58


def test_mix_presets_draw_sizes_runs_and_defects_deterministically(tmp_path: Path) -> None:
    args = ("--preset", "multirun", "--files", "24", "--seed", "5")
    one = _gen(tmp_path / "a", *args, "--jobs", "1")
    two = _gen(tmp_path / "b", *args, "--jobs", "2")
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    counts = one["counts"]
    assert counts == two["counts"] and one["mix"] == "multirun"
    recount = _count_lines(tmp_path / "a")
    assert recount == {k: counts[k] for k in recount}
    assert counts["runs"] >= 4 * 24 and counts["glued"] > 0 and counts["torn_tails"] > 0
    sizes = sorted(p.stat().st_size for p in (tmp_path / "a").rglob("*.jsonl*"))
    assert sizes[-1] > 2 * sizes[len(sizes) // 2]  # sizes spread around the median


def test_bench_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    manifest = _gen(corpus, "--files", "4", "--steps", "2", "--jobs", "1")
    out, md = tmp_path / "out", tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "bench_ingest.py"),
            "--corpora",
            "",
            "--corpus",
            f"many={corpus}",
            "--rounds",
            "1",
            "--incr-reps",
            "1",
            "--no-torn-check",
            "--query-corpus",
            "many",
            "--root",
            str(tmp_path / "root"),
            "--out",
            str(out),
            "--results-md",
            str(md),
            "--python",
            sys.executable,
            "--warehouse",
            str(WAREHOUSE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((out / "latest.json").read_text())
    by_case = {r["case"]: r for r in data["results"]}
    assert by_case["cat"]["rc"] == 0 and by_case["floor"]["rc"] == 0
    assert json.loads(by_case["floor"]["stdout"])["rows"] == manifest["counts"]["valid_lines"]
    text = md.read_text()
    assert "<!-- bench:begin" in text and "read_json columns= CTAS" in text
    help_run = subprocess.run([str(WAREHOUSE), "ingest", "--help"], capture_output=True, check=False)
    ingest_ok = help_run.returncode == 0
    if not ingest_ok:
        assert any("not available" in n for n in data["report"]["notes"])
        return
    ours = by_case["ours"]
    assert ours["rc"] == 0, ours["stderr_tail"]
    assert ours["extra"]["rows_check"]["verdict"] == "ok"
    for case in ("incr setup: full ingest", "no-op re-ingest", "append 1 line"):
        assert by_case[case]["rc"] == 0, by_case[case]["stderr_tail"]
    assert by_case["no-op re-ingest"]["extra"]["check"] == "ok"
    assert by_case["append 1 line"]["extra"]["check"] == "ok"
    assert "typed" in data["report"]["query"], data["report"]["query"]
    assert data["report"]["query"]["same_answer"] is True


def test_ab_bench_runs_an_a_a_comparison(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _gen(corpus, "--files", "4", "--steps", "2", "--jobs", "1")
    root = tmp_path / "root"
    cmd = [sys.executable, str(BENCH / "bench_ab.py"), "--rev", "HEAD", "--rev", "HEAD"]
    opts = ["--rounds", "2", "--pause", "0", "--corpus", str(corpus), "--root", str(root)]
    proc = subprocess.run([*cmd, *opts], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = [line for line in proc.stdout.splitlines() if line.startswith("| HEAD")]
    assert [line.split(" | ")[1] for line in table] == ["append", "noop", "append", "noop"]
    assert table[2].split(" | ")[0].endswith(")'"), table  # the second HEAD, by its own name
    bad = subprocess.run(
        [*cmd[:3], "no-such-rev", *cmd[4:], *opts], capture_output=True, text=True, check=False
    )
    assert bad.returncode != 0 and "bench_ab: cannot extract 'no-such-rev'" in bad.stderr


def test_watch_bench_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    _gen(tmp_path / "tiny", "--files", "4", "--steps", "3")
    out = tmp_path / "watch.json"
    cmd = [sys.executable, str(BENCH / "bench_watch.py"), "--root", str(tmp_path), "--lines", "2"]
    done = subprocess.run(
        [*cmd, "--corpus", f"tiny={tmp_path / 'tiny'}", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "| tiny | 4 |" in done.stdout
    got = json.loads(out.read_text())["tiny"]
    assert got["exit_code"] == 0 and got["idle"]["children"] == 0  # the worker retired when idle
    assert got["sweep"]["n"] == 2 and got["burst"]["rounds"] >= 1
