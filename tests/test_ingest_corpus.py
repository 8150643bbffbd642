"""Ingest of the committed fixture corpus: every line accounted for, run identity, path rules."""

from __future__ import annotations

from pathlib import Path

from ingest import ingest_runs
from tests.ingest_support import rows, scalar


def test_every_line_is_loaded_quarantined_or_counted_blank(fixture_runs: Path, db_path: Path) -> None:
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert summary.files_new == 10
    assert summary.files_skipped == 2  # summary.json and a .stderr file: reported, not errors
    assert (summary.lines_good, summary.lines_quarantined, summary.lines_blank) == (33, 3, 1)
    kinds = dict(rows(db_path, "SELECT kind, count(*) FROM records GROUP BY kind"))
    assert kinds == {"header": 11, "step": 21, "run_end": 1}
    # nothing from _aggregated/, and no all-NULL phantom rows
    assert scalar(db_path, "SELECT count(*) FROM records WHERE run_key = 'zzz'") == 0
    orphan = (
        "SELECT count(*) FROM records WHERE (line ->> '$.run_id') IS NULL AND (line ->> '$.step') IS NULL"
    )
    assert scalar(db_path, orphan) == 0


def test_quarantine_keeps_raw_bytes_with_location(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    bad = rows(
        db_path,
        """SELECT f.relpath, q.line_no, q.byte_offset, q.error, q.raw
                           FROM quarantine q JOIN files f USING (file_id) ORDER BY 1, 2""",
    )
    texts = {(rel, line): raw for rel, line, _off, _err, raw in bad}
    sg = "scattergun_phase2/breadth/deepseek-ai_DeepSeek-V3_1_seed4242420_N10.jsonl"
    assert texts[(sg, 6)] == b"this is not json"
    assert texts[(sg, 3)].startswith(b'{"run_id": "run-d", "step": 1')  # the torn part only
    assert any("glued" in err for *_x, err, _raw in bad)
    for rel, line, offset, _err, raw in bad:
        data = (fixture_runs / rel).read_bytes()
        assert data[offset : offset + len(raw)] == raw  # offsets point at the exact bytes


def test_glued_header_starts_its_run(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    got = rows(
        db_path,
        """SELECT r.line_no, r.kind, r.run_key FROM records r JOIN files f USING (file_id)
                           WHERE f.relpath LIKE 'scattergun%' ORDER BY r.line_no""",
    )
    assert got == [
        (1, "header", "run-d"),
        (2, "step", "run-d"),
        (3, "header", "run-e"),
        (4, "step", "run-e"),
        (7, "step", "run-e"),
    ]


def test_torn_tail_is_held_back(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    pending, lines = rows(
        db_path,
        "SELECT pending_bytes, ingested_lines FROM files WHERE relpath = 'exp/openai_default_sc1_b6.jsonl'",
    )[0]
    assert pending == 57 and lines == 2
    assert scalar(db_path, "SELECT count(*) FROM records WHERE run_key = 'run-c'") == 2


def test_legacy_file_gets_stable_synthetic_run(fixture_runs: Path, db_path: Path, tmp_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    keys = rows(
        db_path,
        """SELECT DISTINCT run_key FROM records r JOIN files f USING (file_id)
                            WHERE f.relpath = 'legacy/postcutoff_rag_off.jsonl'""",
    )
    assert len(keys) == 1 and keys[0][0].startswith("legacy-")
    other_db = tmp_path / "other" / "runs.duckdb"
    ingest_runs(str(fixture_runs), str(other_db))
    assert (
        rows(
            other_db,
            """SELECT DISTINCT run_key FROM records r JOIN files f USING (file_id)
                             WHERE f.relpath = 'legacy/postcutoff_rag_off.jsonl'""",
        )
        == keys
    )


def test_recovered_copy_shares_the_run_key(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    got = rows(
        db_path,
        """SELECT f.kind, count(*) FILTER (WHERE r.kind = 'step') FROM records r
                           JOIN files f USING (file_id) WHERE r.run_key = 'run-f' GROUP BY 1 ORDER BY 1""",
    )
    assert got == [("jsonl", 2), ("recovered", 1)]


def test_eras_and_typed_columns(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    v1 = rows(
        db_path,
        """SELECT cfg_domain, dials->>'$.self_consistency_n', anon_seed FROM records
                          WHERE kind = 'header' AND run_id = '59ec4b69-d77f-4556-bee8-b1c0a6ff09d8'""",
    )
    assert v1 == [("psych", "1", 12345)]
    # v1 steps have no `abstained`: derived from chosen_index
    assert scalar(
        db_path,
        """SELECT bool_and(NOT abstained) FROM records
                              WHERE run_key = '59ec4b69-d77f-4556-bee8-b1c0a6ff09d8' AND kind = 'step'""",
    )
    step = rows(
        db_path,
        """SELECT correct, credited, coverage, votes_n, citations_n, student_total_tokens,
                                   tutor_total_tokens, duration_ms, item_id IS NOT NULL
                            FROM records WHERE run_key = 'run-a' AND step = 0""",
    )
    assert step == [(True, True, 0.5, 3, 2, 120, 110, 1000.0, True)]


def test_runner_v2_header_end_record_and_drift(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    hdr = rows(
        db_path,
        "SELECT schema_version, hdr_student, hdr_provider, hdr_model, hdr_tau FROM records"
        " WHERE kind = 'header' AND run_id = 'run-h'",
    )
    assert hdr == [(2, "lexical", "offline", "lexical-baseline", 0.3)]
    assert rows(db_path, "SELECT end_status FROM records WHERE kind = 'run_end'") == [("complete",)]
    assert rows(db_path, "SELECT key, kind, n_lines FROM schema_drift") == [("shiny_new_field", "step", 1)]
    drifted = "SELECT line ->> '$.shiny_new_field.x' FROM records WHERE contains(line, 'shiny_new_field')"
    assert rows(db_path, drifted) == [("1",)]
    assert (
        scalar(db_path, "SELECT line ->> '$.calls[0].ms' FROM records WHERE run_key = 'run-h' AND step = 0")
        == "12.5"
    )


def test_item_id_pairs_identical_items_across_runs(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    # run-a and run-b ask the same generated items at the same step index
    n = scalar(
        db_path,
        """SELECT count(DISTINCT run_key) FROM records WHERE item_id =
               (SELECT item_id FROM records WHERE run_key = 'run-a' AND step = 0)""",
    )
    assert n >= 2


def test_path_rules_derive_model_provider_tau(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    got = {
        r[0]: r[1:]
        for r in rows(
            db_path, "SELECT relpath, provider, model, tau, stage, derivation->>'$.model' FROM files"
        )
    }
    assert got["scattergun_phase2/breadth/deepseek-ai_DeepSeek-V3_1_seed4242420_N10.jsonl"] == (
        "deepinfra",
        "deepseek-ai/DeepSeek-V3.1",
        0.35,
        "breadth",
        "scattergun",
    )
    assert got["exp/openai_default_sc1_b6.jsonl"][:3] == ("openai", "gpt-4.1", 0.25)
    assert got["exp/openai_gpt-4.1_sc1_b6.jsonl.gz"][:2] == ("openai", "gpt-4.1")
    assert got["strict/openai_41_tau25_header.jsonl"][:3] == ("openai", "gpt-4.1", 0.25)


def test_user_rules_from_toml_win_and_rule_changes_rederive(
    fixture_runs: Path, db_path: Path, tmp_path: Path
) -> None:
    from warehouse.core.config import load_config

    ingest_runs(str(fixture_runs), str(db_path))
    toml = tmp_path / "warehouse.toml"
    toml.write_text(
        '[[path_rules]]\nname = "legacy_is_mixtral"\npattern = "^legacy/"\n'
        'set = { model = "mistralai/Mixtral-8x7B-Instruct-v0.1", tau = "0.4" }\n'
    )
    summary = ingest_runs(str(fixture_runs), str(db_path), config=load_config(str(toml)))
    assert summary.files_unchanged == 10 and summary.lines_good == 0
    got = rows(
        db_path, "SELECT DISTINCT model, tau, derivation->>'$.model' FROM files WHERE relpath LIKE 'legacy/%'"
    )
    assert got == [("mistralai/Mixtral-8x7B-Instruct-v0.1", 0.4, "legacy_is_mixtral")]


def test_unknown_dials_are_recorded_as_drift(fixture_runs: Path, db_path: Path) -> None:
    path = fixture_runs / "exp" / "runner_lexical.jsonl"
    path.write_text(
        path.read_text().replace('"closed_book": true', '"closed_book": true, "warp_drive": 9', 1)
    )
    ingest_runs(str(fixture_runs), str(db_path))
    got = rows(db_path, "SELECT key, kind, n_lines FROM schema_drift ORDER BY key")
    assert got == [("config.dials.warp_drive", "header", 1), ("shiny_new_field", "step", 1)]


def test_prices_from_toml_reach_the_prices_table(fixture_runs: Path, db_path: Path, tmp_path: Path) -> None:
    from warehouse.core.config import load_config

    ingest_runs(str(fixture_runs), str(db_path))
    assert scalar(db_path, "SELECT count(*) FROM prices") == 0
    toml = tmp_path / "warehouse.toml"
    toml.write_text('[prices."gpt-4.1"]\ninput_per_mtok = 2.0\noutput_per_mtok = 8.0\n')
    summary = ingest_runs(str(fixture_runs), str(db_path), config=load_config(str(toml)))
    assert summary.lines_good == 0
    assert rows(db_path, "SELECT * FROM prices") == [("gpt-4.1", 2.0, 8.0)]


def test_glued_header_after_a_torn_step_with_many_nested_objects(fixture_runs: Path, db_path: Path) -> None:
    import json as _json

    step = {
        "run_id": "deep",
        "step": 0,
        "fact_cards_after": {"cards": [{"id": f"f{i}", "where": {"x": i}} for i in range(20)]},
    }
    torn = _json.dumps(step)[:-30]  # cut inside the last card: dozens of {" before the cut
    header = _json.dumps({"run_header": True, "run_id": "after", "config": {}})
    (fixture_runs / "exp" / "glued_deep.jsonl").write_text(
        torn + header + "\n" + _json.dumps({"run_id": "after", "step": 0}) + "\n"
    )
    ingest_runs(str(fixture_runs), str(db_path))
    got = rows(
        db_path,
        """SELECT r.line_no, r.kind, r.run_key FROM records r JOIN files f USING (file_id)
                           WHERE f.relpath = 'exp/glued_deep.jsonl' ORDER BY r.line_no""",
    )
    assert got == [(1, "header", "after"), (2, "step", "after")]
