"""Report data for the task types beyond MCQ credit: a score per task type, SAQ, alias swap.

Scores per step, as the simulator's own analysis scores each task type: mcq `correct`; saq
`grading.score` (the logged best draft); code `evaluation.passed / evaluation.total` (0 when it
errored or has no total); proof and table_qa `evaluation.ok`. Alias-swap runs (task.type mcq)
are their own row, scored by `correct`. The mean comes with a t 95% interval over steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

Row = dict[str, Any]

TASK_SCORES = """
WITH st AS (
    SELECT run_key, file_id, line_no, coalesce(run_task, task_type, '?') AS task, task_type, correct,
           grading_score
    FROM steps
),
exercise AS (
    SELECT file_id, line_no,
           CASE WHEN task_type = 'code' THEN coalesce(
                    TRY_CAST(line ->> '$.evaluation.passed' AS DOUBLE)
                    / nullif(TRY_CAST(line ->> '$.evaluation.total' AS DOUBLE), 0), 0.0)
                ELSE coalesce(TRY_CAST(line ->> '$.evaluation.ok' AS BOOLEAN), false)::INT::DOUBLE
           END AS ex_score
    FROM records WHERE kind = 'step' AND task_type IN ('code', 'proof', 'table_qa')
),
scored AS (
    SELECT run_key, task,
           CASE WHEN task_type = 'mcq' THEN correct::INT::DOUBLE
                WHEN task_type = 'saq' THEN grading_score
                ELSE ex_score END AS score
    FROM st LEFT JOIN exercise USING (file_id, line_no)
)
SELECT task, count(DISTINCT run_key) AS runs, count(*) AS steps, count(score) AS scored,
       avg(score) AS score_mean,
       CASE WHEN count(score) >= 2 THEN greatest(0.0, avg(score)
            - t_ppf(0.975, count(score) - 1) * stddev_samp(score) / sqrt(count(score))) END AS score_low,
       CASE WHEN count(score) >= 2 THEN least(1.0, avg(score)
            + t_ppf(0.975, count(score) - 1) * stddev_samp(score) / sqrt(count(score))) END AS score_high
FROM scored GROUP BY task ORDER BY steps DESC, task
"""

ALIAS_BY_MODEL = """
SELECT model, count(DISTINCT run_key) AS runs, count(DISTINCT family_id) AS families,
       sum(a_n)::BIGINT AS a_n, sum(a_correct)::DOUBLE / nullif(sum(a_n), 0) AS acc_a,
       wilson_low(sum(a_correct), sum(a_n)) AS acc_a_low, wilson_high(sum(a_correct), sum(a_n)) AS acc_a_high,
       sum(b_total)::BIGINT AS b_total, sum(b_correct)::DOUBLE / nullif(sum(b_total), 0) AS acc_b,
       wilson_low(sum(b_correct), sum(b_total)) AS acc_b_low,
       wilson_high(sum(b_correct), sum(b_total)) AS acc_b_high,
       avg(delta) AS delta_mean,
       sum(b_credited)::BIGINT AS b_credited,
       sum(b_credited)::DOUBLE / nullif(sum(b_total), 0) AS credited_b,
       wilson_low(sum(b_credited), sum(b_total)) AS credited_b_low,
       wilson_high(sum(b_credited), sum(b_total)) AS credited_b_high
FROM alias_families GROUP BY model ORDER BY credited_b DESC NULLS LAST, model
"""

SAQ_POINTS = """
SELECT model, kind, label, sum(found)::BIGINT AS found, sum(n)::BIGINT AS n,
       sum(found)::DOUBLE / nullif(sum(n), 0) AS rate,
       wilson_low(sum(found), sum(n)) AS rate_low, wilson_high(sum(found), sum(n)) AS rate_high
FROM saq_points GROUP BY model, kind, label
QUALIFY row_number() OVER (PARTITION BY model, kind
    ORDER BY CASE WHEN kind = 'point' THEN sum(found)::DOUBLE / sum(n) ELSE -sum(found) END, label) <= 3
ORDER BY model, kind DESC, rate
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[Row]:
    cursor = con.execute(sql)
    cols = [d[0] for d in cursor.description or ()]
    return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]


def load_tasks(con: duckdb.DuckDBPyConnection) -> dict[str, list[Row]]:
    """Per task type scores, SAQ drafts and key points, alias swap by model (empty lists when
    the database has no such runs)."""
    return {
        "scores": _rows(con, TASK_SCORES),
        "saq_drafts": _rows(con, "SELECT * FROM saq_drafts ORDER BY model, setting"),
        "saq_points": _rows(con, SAQ_POINTS),
        "alias": _rows(con, ALIAS_BY_MODEL),
        "alias_families": _rows(
            con,
            """SELECT * FROM alias_summary WHERE group_by = 'model'
               ORDER BY label, family_id""",
        ),
    }
