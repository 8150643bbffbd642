"""`warehouse show RUN [STEP]`: one run (header, dials, per-step outcomes) or one step (question,
options, cards, citations, evidence verdict and the transcript), in the terminal.

Colours and boxes on a terminal; plain text when piped (rich decides from the stream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from warehouse.cli.options import config_option, db_option, resolve_db

if TYPE_CHECKING:
    from rich.console import Console

    from warehouse.apps.runview import StepView

LETTERS = "ABCDEFGHIJ"


@click.command("show")
@click.argument("run")
@click.argument("step", type=int, required=False)
@db_option
@config_option
@click.option("--width", type=int, help="Line width (default: the terminal's, 120 when piped).")
def show_command(
    run: str, step: int | None, db: str | None, config_path: str | None, width: int | None
) -> None:
    """Show one run, or one step of it with what the model was sent and said.

    RUN is a run id or run key, or a unique prefix of one. STEP is the step number (from 0).

    \b
    Examples:
      warehouse show 6f1d2c0a            # header, dials and every step's outcome
      warehouse show 6f1d2c0a 4          # step 4: question, cards, verdict, transcript
      warehouse show 6f1d2c0a 4 | less   # plain text when piped
    """
    import sys

    from rich.console import Console

    from warehouse.apps import runview
    from warehouse.store.db import open_reader

    con = open_reader(resolve_db(db, config_path))
    try:
        found = runview.find_run(con, run)
        console = Console(width=width or (None if sys.stdout.isatty() else 120), highlight=False)
        if step is None:
            _show_run(console, found, runview.run_steps(con, found["run_key"]))
        else:
            _show_step(console, runview.find_step(con, found, step))
    finally:
        con.close()


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _header(console: Console, run: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key in ("run_id", "run_key", "model", "provider", "student", "campaign", "status", "tau", "setting"):
        table.add_row(key, _fmt(run.get(key)))
    table.add_row("steps", f"{run.get('steps_logged')} of {_fmt(run.get('planned_steps'))} planned")
    table.add_row("started", _fmt(run.get("started_at")))
    table.add_row("log", _fmt(run.get("path")))
    console.print(table)


def _show_run(console: Console, run: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    import json

    from rich.table import Table

    _header(console, run)
    dials = json.loads(run["dials"]) if run.get("dials") else {}
    if dials:
        console.print(
            "\n[bold]dials[/bold]  " + "  ".join(f"{k}={json.dumps(v)}" for k, v in sorted(dials.items()))
        )
    n = len(steps)
    credited = sum(bool(s["credited"]) for s in steps)
    correct = sum(bool(s["correct"]) for s in steps)
    console.print(f"\n[bold]outcome[/bold]  credited {credited}/{n}  correct {correct}/{n}")
    table = Table(title=None, show_edge=False, header_style="bold")
    for name in (
        "step",
        "chosen",
        "gold",
        "correct",
        "credited",
        "coverage",
        "witness",
        "reasons",
        "s",
        "tokens",
    ):
        table.add_column(name, justify="right" if name in ("step", "coverage", "s", "tokens") else "left")
    for s in steps:
        table.add_row(
            _fmt(s["step"]),
            _letter(s["chosen_index"]),
            _letter(s["correct_index"]),
            _fmt(s["correct"]),
            _fmt(s["credited"]),
            _fmt(s["coverage"]),
            _fmt(s["witness_pass"]),
            ", ".join(s["reasons"] or []) or "-",
            _fmt(s["seconds"]),
            _fmt(s["student_tokens"]),
        )
    console.print(table)


def _letter(index: Any) -> str:
    if isinstance(index, int) and 0 <= index < len(LETTERS):
        return LETTERS[index]
    return "-" if index is None else str(index)


def _show_step(console: Console, view: StepView) -> None:
    import json

    from rich.rule import Rule

    row = view.row
    console.print(Rule(f"run {view.run['run_key']}  step {row['step']}  ({view.run.get('model')})"))
    console.print(f"[bold]question[/bold]  {view.task.get('stem', '-')}")
    for i, option in enumerate(view.options):
        marks = ("gold " if i == row["correct_index"] else "") + (
            "chosen" if i == row["chosen_index"] else ""
        )
        console.print(f"  {_letter(i)}. {option}" + (f"   [bold]<- {marks.strip()}[/bold]" if marks else ""))
    verdict = "credited" if row["credited"] else "not credited"
    console.print(
        f"\n[bold]verdict[/bold]  correct={_fmt(row['correct'])}  {verdict}  coverage={_fmt(row['coverage'])}"
        f"  witness={_fmt(row['witness_pass'])}  abstained={_fmt(row['abstained'])}"
        + (f"  reasons: {', '.join(row['reasons'])}" if row["reasons"] else "")
    )
    console.print(f"[bold]citations[/bold]  {', '.join(map(str, view.citations)) or '-'}")
    if view.cards:
        console.print("[bold]cards[/bold]")
        for card in view.cards:
            where = json.dumps(card.get("where"), ensure_ascii=False)
            console.print(f"  {card.get('id')}: {card.get('quote')!r}  {where}", markup=False)
    stem = view.record.get("presented_stem")
    if stem:
        console.print("\n[bold]presented to the student[/bold]")
        console.print(str(stem), markup=False, soft_wrap=True)
    _transcript(console, view)


def _transcript(console: Console, view: StepView) -> None:
    from rich.rule import Rule

    if not view.calls:
        console.print(
            "\n(no transcript logged for this step: the run used --log-messages none, or predates it)"
        )
        return
    for call in view.calls:
        what = " ".join(x for x in (call.role_group, call.phase, call.model) if x)
        console.print(Rule(f"call {call.call_no}: {what}", align="left"))
        for m in call.messages:
            console.print(f"[bold]{m.role}[/bold] ({_fmt(m.chars)} chars)")
            text = m.content if m.content is not None else "(length only)"
            console.print(text, markup=False, soft_wrap=True)


def register(group: Any) -> None:
    group.add_to_section("look", show_command)
