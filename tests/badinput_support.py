"""The bad-input corpus, with what each file must yield.

Every file is built from lines tagged GOOD, BAD or BLANK, so the expected counts and the exact
line numbers of the quarantined lines are known without parsing anything. A torn tail (no final
newline) is neither: it is held back as `pending_bytes` until the line is complete.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

GOOD, BAD, BLANK = "good", "bad", "blank"
BIG_LINE_BYTES = 50 * 2**20
DEEP = 5000
DRIFT_ROW = 30_001  # past DuckDB's 20,480-row type sample
MANY_FILES = 40
HUGE = 2**63 + 5  # > int64
HUGER = 2**70  # > uint64 as well


@dataclass
class Expect:
    good: int = 0
    bad: int = 0
    blank: int = 0
    pending: int = 0
    bad_line_nos: list[int] = field(default_factory=list)
    extra_good: int = 0  # good records beyond one per GOOD line (a glued line holds two)


def header(run: str, **more: object) -> bytes:
    rec = {
        "run_header": True,
        "run_id": run,
        "ts": 1_700_000_000,
        "schema_version": 2,
        "config": {"task": "mcq", "num_steps": 3},
        **more,
    }
    return json.dumps(rec).encode()


def step(run: str, i: int, **more: object) -> bytes:
    rec = {
        "run_id": run,
        "step": i,
        "ts": 1_700_000_000 + i,
        "task": {"type": "mcq", "stem": f"{run} q{i}", "options": ["a", "b"], "correct_index": 0},
        "evaluation": {"correct": i % 2 == 0},
        "duration_ms": 10.5,
        "student_usage": {"calls": 1, "total_tokens": 7},
        **more,
    }
    return json.dumps(rec, ensure_ascii=False).encode()


def _write(
    path: Path, tagged: list[tuple[str, bytes]], *, tail: bytes = b"", sep: bytes = b"\n", prefix: bytes = b""
) -> Expect:
    path.parent.mkdir(parents=True, exist_ok=True)
    exp = Expect(pending=len(tail))
    for line_no, (tag, _raw) in enumerate(tagged, start=1):
        if tag == GOOD:
            exp.good += 1
        elif tag == BAD:
            exp.bad += 1
            exp.bad_line_nos.append(line_no)
        else:
            exp.blank += 1
    path.write_bytes(prefix + b"".join(raw + sep for _tag, raw in tagged) + tail)
    return exp


def build(root: Path) -> dict[str, Expect]:
    """Write the corpus under root; return relpath -> what ingest must make of it."""
    out: dict[str, Expect] = {}

    def add(rel: str, tagged: list[tuple[str, bytes]], **kw: bytes) -> Expect:
        out[rel] = _write(root / rel, tagged, **kw)
        return out[rel]

    # torn: a line cut mid-string (newline after it), a cut line with the next record glued on,
    # and a torn tail still being written.
    cut = step("torn", 1)[:37]
    torn = add(
        "bad/torn.jsonl",
        [
            (GOOD, header("torn")),
            (GOOD, step("torn", 0)),
            (BAD, cut),
            (GOOD, step("torn", 2)),
            (BAD, cut + step("torn", 3)),
            (GOOD, step("torn", 4)),
        ],
        tail=step("torn", 5)[:25],
    )
    torn.extra_good = 1  # the glued record after the cut is loaded as a good row
    add(
        "bad/blank.jsonl",
        [
            (GOOD, header("blank")),
            (BLANK, b""),
            (GOOD, step("blank", 0)),
            (BLANK, b"   "),
            (BLANK, b"\t"),
            (BLANK, b"\r"),
            (GOOD, step("blank", 1)),
            (BLANK, b""),
        ],
    )
    add(
        "bad/nonjson.jsonl",
        [
            (GOOD, header("nj")),
            (BAD, b"hello world"),
            (BAD, b"{bad json}"),
            (BAD, b"<html><body>502</body></html>"),
            (BAD, b'{"run_id": "nj",'),
            (BAD, b"}"),
            (GOOD, step("nj", 0)),
        ],
    )
    add(
        "bad/utf8.jsonl",
        [
            (GOOD, header("u8")),
            (BAD, b'{"run_id": "u8", "step": 0, "presented_stem": "\xff\xfe"}'),
            (BAD, b'{"run_id": "u8", "step": 1, "presented_stem": "\xc0\xaf"}'),
            (BAD, b'{"run_id": "u8", "step": 2, "presented_stem": "\xe2\x82"}'),
            (GOOD, step("u8", 3, presented_stem="caf\u00e9 \u2603")),
        ],
    )
    add("bad/bom.jsonl", [(GOOD, header("bom")), (GOOD, step("bom", 0))], prefix=b"\xef\xbb\xbf")
    add("bad/crlf.jsonl", [(GOOD, header("crlf")), (GOOD, step("crlf", 0))], sep=b"\r\n")
    add(
        "bad/nan.jsonl",
        [
            (GOOD, header("nan")),
            (BAD, b'{"run_id": "nan", "step": 0, "evaluation": {"calibrated_score": NaN}}'),
            (BAD, b'{"run_id": "nan", "step": 1, "duration_ms": Infinity}'),
            (BAD, b'{"run_id": "nan", "step": 2, "duration_ms": -Infinity}'),
            (GOOD, step("nan", 4, presented_stem="NaN Infinity")),
        ],
    )  # only inside a string: fine
    add(
        "bad/overflow.jsonl",
        [
            (GOOD, header("ovf")),
            (GOOD, b'{"run_id": "ovf", "step": 0, "duration_ms": 1e999}'),  # valid JSON, beyond a double
            (BAD, b'{"run_id": "ovf", "step": 1, "duration_ms": 1e999, "x": NaN}'),
            (GOOD, step("ovf", 2)),
        ],
    )
    add(
        "bad/dupkeys.jsonl",
        [
            (GOOD, header("dup")),
            (BAD, b'{"run_id": "dup", "step": 0, "step": 1}'),
            (BAD, b'{"run_id": "dup", "evaluation": {"correct": true}, "evaluation": {"correct": false}}'),
            (GOOD, b'{"run_id": "dup", "step": 2, "evaluation": {"correct": true, "correct": false}}'),
        ],
    )
    deep = b"[" * DEEP + b"]" * DEEP  # valid JSON deeper than orjson's limit: DuckDB reads it
    add(
        "bad/deep.jsonl",
        [
            (GOOD, header("deep")),
            (GOOD, b'{"run_id": "deep", "step": 0, "config": ' + deep + b"}"),
            (GOOD, step("deep", 1)),
        ],
    )
    add(
        "bad/deep_new_key.jsonl",
        [
            (GOOD, header("deepk")),
            (GOOD, b'{"run_id": "deepk", "step": 0, "novel": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}"),
            (
                BAD,
                b'{"run_id": "deepk", "step": 1, "config": ' + b"[" * DEEP + b"]" * (DEEP - 1) + b"}",
            ),  # unbalanced: not JSON
            (GOOD, step("deepk", 2)),
        ],
    )
    drift = [(GOOD, header("drift30k"))] + [(GOOD, step("drift30k", i)) for i in range(1, DRIFT_ROW - 1)]
    drift.append(
        (
            GOOD,
            json.dumps(
                {
                    "run_id": "drift30k",
                    "step": "thirty thousand",
                    "evaluation": {"correct": "oops"},
                    "duration_ms": "slow",
                    "student_usage": {"total_tokens": "many"},
                }
            ).encode(),
        )
    )
    drift += [(GOOD, step("drift30k", i)) for i in range(DRIFT_ROW + 1, DRIFT_ROW + 4)]
    add("bad/drift30k.jsonl", drift)
    for n in range(1, MANY_FILES + 1):
        lines = [(GOOD, header(f"many{n}"))] + [(GOOD, step(f"many{n}", i)) for i in range(5)]
        if n == MANY_FILES:  # file #40: a new top-level key and a type change
            lines.append(
                (
                    GOOD,
                    json.dumps(
                        {
                            "run_id": f"many{n}",
                            "step": "five",
                            "ts": "late",
                            "new_col": {"x": 1},
                            "evaluation": {"correct": 1},
                        }
                    ).encode(),
                )
            )
        add(f"many/f{n:02d}.jsonl", lines)
    add("bad/empty.jsonl", [])
    add(
        "bad/scalars.jsonl",
        [
            (GOOD, header("sc")),
            (BAD, b"42"),
            (BAD, b'"a string"'),
            (BAD, b"[1, 2]"),
            (BAD, b"null"),
            (BAD, b"true"),
            (BAD, b"3.5"),
            (BAD, b"[]"),
            (GOOD, step("sc", 0)),
        ],
    )
    add(
        "bad/bigint.jsonl",
        [
            (GOOD, header("bigint")),
            (
                GOOD,
                json.dumps(
                    {"run_id": "bigint", "step": HUGE, "student_usage": {"total_tokens": HUGE}}
                ).encode(),
            ),
            (GOOD, f'{{"run_id": "bigint", "step": 2, "huge": {HUGER}, "neg": {-HUGE}}}'.encode()),
            (GOOD, step("bigint", 3)),
        ],
    )
    add(
        "bad/ctrl.jsonl",
        [
            (GOOD, header("ctrl")),
            (BAD, b'{"run_id": "ctrl", "step": 0, "presented_stem": "tab\there"}'),
            (BAD, b'{"run_id": "ctrl", "step": 1, "presented_stem": "nul\x00here"}'),
            (BAD, b'{"run_id": "ctrl", "step": 2, "presented_stem": "esc\x1bhere"}'),
            (GOOD, b'{"run_id": "ctrl", "step": 3, "presented_stem": "escaped \\u0000 \\t ok"}'),
            (GOOD, b'{"run_id": "ctrl", "step": 4, "presented_stem": "del \x7f ok"}'),
        ],
    )
    add(
        "bad/surrogate.jsonl",
        [
            (GOOD, header("sur")),
            (BAD, b'{"run_id": "sur", "step": 0, "presented_stem": "\\ud800"}'),
            (BAD, b'{"run_id": "sur", "step": 1, "presented_stem": "\\udc00 low"}'),
            (BAD, b'{"run_id": "sur", "step": 2, "presented_stem": "\xed\xa0\x80"}'),  # CESU-8 bytes
            (GOOD, b'{"run_id": "sur", "step": 3, "presented_stem": "\\ud83d\\ude00"}'),
        ],
    )
    add("bad/range.jsonl", [(GOOD, header("range"))] + [(GOOD, line) for line in out_of_range_lines("range")])
    _gzips(root, out)
    return out


# Typed values no view can convert as they are: epochs in ms / us / ns, beyond a double, non-finite
# after parsing, integers past what sums and price products can hold. Each line is valid JSON.
RANGE_TS = ("1757510189123456789", "1e17", "-1e309", "1757510189123", "1757510189123456", "1e300", "-5e19")
RANGE_TS_SECONDS = (1757510189.123456789, 1e8, None, 1757510189.123, 1757510189.123456, None, -5e10)
RANGE_OTHER = (
    '"step": 9223372036854775807',
    '"step": -9223372036854775808',
    '"duration_ms": 1e308',
    '"duration_ms": -1e309',
    '"student_usage": {"calls": 2147483647, "prompt_tokens": 9223372036854775807,'
    ' "completion_tokens": 9223372036854775807, "total_tokens": -9223372036854775808,'
    ' "request_ms_sum": 1e309}',
    '"tutor_usage": {"prompt_tokens": 9223372036854775807, "completion_tokens": 9223372036854775807}',
)


def out_of_range_lines(run: str) -> list[bytes]:
    """Step lines with one extreme typed value each (the ts ones are steps 100.., the others 200..)."""
    lines = [f'{{"run_id": "{run}", "step": {100 + i}, "ts": {t}}}'.encode() for i, t in enumerate(RANGE_TS)]
    for i, kv in enumerate(RANGE_OTHER):
        step_kv = "" if kv.startswith('"step"') else f'"step": {200 + i}, '
        lines.append(f'{{"run_id": "{run}", {step_kv}{kv}}}'.encode())
    return lines


def build_big_line(root: Path) -> dict[str, Expect]:
    """The 50 MB line, in a corpus of its own: in a table where rows without that field follow
    it, DuckDB 1.5.5 scans the field with ~2048 copies of the value per vector (duckdb/duckdb
    issue #24897, fixed after 1.5.5), so it would turn every scan of the main corpus into an OOM."""
    rel = "bad/bigline.jsonl"
    return {
        rel: _write(
            root / rel,
            [
                (GOOD, header("big")),
                (GOOD, step("big", 0, presented_stem="x" * BIG_LINE_BYTES)),
                (GOOD, step("big", 1, presented_stem="short")),
            ],
        )
    }


def _gzips(root: Path, out: dict[str, Expect]) -> None:
    body = [header("gz")] + [step("gz", i) for i in range(200)]
    data = b"".join(line + b"\n" for line in body)
    cut = len(data) // 2 + 17  # members split mid-line: the reader must join them
    path = root / "bad" / "multi.jsonl.gz"
    path.write_bytes(gzip.compress(data[:cut]) + gzip.compress(data[cut:]))
    out["bad/multi.jsonl.gz"] = Expect(good=len(body))
    whole = gzip.compress(data, compresslevel=1)
    (root / "bad" / "trunc.jsonl.gz").write_bytes(whole[: len(whole) * 2 // 3])
    out["bad/trunc.jsonl.gz"] = Expect()  # filled in by truncated_gz_expect()


def truncated_gz_expect(root: Path) -> Expect:
    """Lines a reader can recover from the truncated .gz: every complete line of the stream
    prefix that decompresses, plus one quarantine row for the cut."""
    import zlib

    raw = (root / "bad" / "trunc.jsonl.gz").read_bytes()
    prefix = zlib.decompressobj(wbits=31).decompress(raw)
    complete = prefix.count(b"\n")
    return Expect(good=complete, bad=1, bad_line_nos=[complete + 1])


# Values for the required arguments of the table macros (the others have defaults).
MACRO_ARGS: dict[str, str] = {"a": "$a", "b": "$b", "new_tau": "0.5", "side": "$a", "metric": "'credited'"}


def every_view_answers(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """{object: error} for every view that fails `SELECT count(*)` and every public table macro
    that fails a call with valid arguments (two models with steps in the default scope for a and b:
    a model named only by a header without counted steps is rightly refused); {} if all answer."""
    models = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT model FROM steps_in_v2()"
            " WHERE model IS NOT NULL AND model <> 'unknown' ORDER BY 1"
        ).fetchall()
    ]
    params = {"a": models[0] if models else None, "b": models[min(1, len(models) - 1)] if models else None}
    failures: dict[str, str] = {}
    views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main' ORDER BY 1"
    ).fetchall()
    for (name,) in views:
        try:
            con.execute(f"SELECT count(*) FROM {name}").fetchall()
        except duckdb.Error as e:
            failures[name] = str(e).splitlines()[0]
    macros = con.execute(
        "SELECT function_name, parameters FROM duckdb_functions() WHERE function_type = 'table_macro'"
        " AND NOT internal AND NOT starts_with(function_name, '_') ORDER BY 1"
    ).fetchall()
    for name, names in macros:
        args = ", ".join(MACRO_ARGS[p] for p in names if p in MACRO_ARGS)
        used = {k: v for k, v in params.items() if f"${k}" in args}
        try:
            con.execute(f"SELECT count(*) FROM {name}({args})", used).fetchall()
        except duckdb.Error as e:
            failures[f"{name}()"] = str(e).splitlines()[0]
    return failures
