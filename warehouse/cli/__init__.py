"""`warehouse` command line: a thin click layer over the library.

Commands live in one module per concern (ingest, look, runner, keep, lake, ...); each module
exposes `register(group)`. Errors are translated here, once: a WarehouseError prints one line on
stderr and exits with its code; `--debug` shows the traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any, NoReturn

import click

from warehouse.core.errors import ExitCode, WarehouseError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

# What a user does, in the order --help lists it.
SECTIONS = {
    "load": "Load logs into the warehouse",
    "look": "Look at results",
    "launch": "Launch eval runs",
    "keep": "Keep, export and archive",
}

# Modules under warehouse.cli that define commands (each has register(group)); they are imported
# when needed: running one command imports its module only (a no-op ingest is then ~40 ms
# shorter), --help and list_commands() import them all.
COMMAND_MODULES = (
    "ingest_cmd",
    "look_cmd",
    "models_cmd",
    "keep_cmd",
    "analysis_cmd",
    "launch_cmd",
    "run_cmd",
    "lake_cmd",
    "shell_cmd",
    "simq_cmd",
    "show_cmd",
    "view_cmd",
    "plan_cmd",
)
# Which module registers each command. A name missing here still works (every module is then
# imported to find it); this only spares the others.
COMMAND_MODULE = {
    "ingest": "ingest_cmd",
    "migrate": "ingest_cmd",
    "query": "look_cmd",
    "status": "look_cmd",
    "models": "models_cmd",
    **dict.fromkeys(("export", "report", "archive", "restore"), "keep_cmd"),
    **dict.fromkeys(
        ("views", "ranking", "best-settings", "dial-effects", "catalog", "compare", "prices"), "analysis_cmd"
    ),
    **dict.fromkeys(("sweep", "wait", "defaults", "demo"), "launch_cmd"),
    "run": "run_cmd",
    "lake": "lake_cmd",
    "shell": "shell_cmd",
    "token-curve": "simq_cmd",
    "show": "show_cmd",
    "view": "view_cmd",
    "plan-next": "plan_cmd",
}


class SectionedGroup(click.Group):
    """A group whose help lists commands under the task they serve."""

    sections: dict[str, str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_section: dict[str, str] = {}
        self.loaded: set[str] = set()

    def load(self, modules: tuple[str, ...] = COMMAND_MODULES) -> None:
        """Import these command modules (each registers its commands), once."""
        for name in modules:
            if name not in self.loaded:
                self.loaded.add(name)
                importlib.import_module(f"warehouse.cli.{name}").register(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            module = COMMAND_MODULE.get(cmd_name)
            self.load((module,) if module else COMMAND_MODULES)
            if cmd_name not in self.commands:
                self.load()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load()
        return super().list_commands(ctx)

    def add_to_section(self, section: str, command: click.Command) -> None:
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section}")
        self.add_command(command)
        assert command.name is not None
        self.command_section[command.name] = section

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for section, title in SECTIONS.items():
            rows = []
            for name in sorted(self.list_commands(ctx)):
                if self.command_section.get(name, "keep") != section:
                    continue
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(limit=70)))
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


@click.group(cls=SectionedGroup, context_settings=CONTEXT_SETTINGS)
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
@click.version_option(package_name="runs-warehouse")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """runs-warehouse: one DuckDB database of all your LLM-eval run logs.

    \b
    Start here:
      warehouse demo                 # offline: runs, ingests, ranks, reports
      warehouse ingest runs/         # load your logs into runs/runs.duckdb
      warehouse query "select * from model_ranking" -t
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and translate every error once.

    A user mistake is one line on stderr and the documented exit code (warehouse.core.errors.ExitCode);
    `--debug` prints the traceback before that line, with the same code.
    """
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="warehouse", standalone_mode=False)
    except WarehouseError as e:
        if os.environ.get("WAREHOUSE_RAISE"):
            raise
        _fail(f"error: {e}", e.exit_code, debug)
    except click.exceptions.Abort:
        _fail("aborted", ExitCode.INTERRUPTED, debug)
    except click.UsageError as e:  # bad option or argument: one line and where to look
        hint = f"; see '{e.ctx.command_path} --help'" if e.ctx is not None else ""
        _fail(f"error: {e.format_message().rstrip('.')}{hint}", e.exit_code, debug)
    except click.ClickException as e:
        _fail(f"error: {e.format_message()}", e.exit_code, debug)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", ExitCode.INTERRUPTED, debug)
    except Exception as e:  # a bug: say so in one line unless --debug
        if os.environ.get("WAREHOUSE_RAISE"):
            raise
        _fail(f"internal error: {type(e).__name__}: {e} (rerun with --debug)", ExitCode.FAILURE, debug)


def entry() -> NoReturn:
    """The `warehouse` console script (and `python -m warehouse`): main(), then leave at once.

    Once a command has returned, its work is closed and published; what remains is tearing down
    the interpreter with DuckDB loaded (0.03 s of a 20k-file no-op ingest, measured). So flush
    the two streams and end the process. Errors keep the normal exit path."""
    main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing left to say
            os._exit(int(ExitCode.FAILURE))
    os._exit(0)


def _fail(message: str, code: int, debug: bool) -> NoReturn:
    """Print the current exception's traceback when debugging, then one line; exit with code."""
    if debug:
        traceback.print_exc()
    click.echo(" ".join(line.strip() for line in message.splitlines() if line.strip()), err=True)
    sys.exit(int(code))
