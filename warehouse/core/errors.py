"""Typed errors. Library code raises these; the CLI turns them into one line and an exit code."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes of the `warehouse` command."""

    OK = 0  # success
    FAILURE = 1  # unexpected internal error (a bug: run with --debug and report it)
    USAGE = 2  # bad option, bad path, bad TOML or config, API key variable unset (click uses 2 too)
    QUERY = 3  # SQL error in a user query, unknown view or column
    SCHEMA = 4  # database schema too old / too new, or a migration changed since it was applied
    LOCKED = 5  # another process holds the database
    ENDPOINT = 6  # model endpoint unreachable or refusing
    DATA = 7  # input data unusable (corrupt archive, missing file, no space)
    INTERRUPTED = 130  # stopped by Ctrl-C or SIGTERM (runs close as aborted and can be resumed)


class WarehouseError(Exception):
    """Base of every error a user can cause. The message says what to do."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or self.__class__.__name__).strip())


class UsageError(WarehouseError):
    """Bad argument, path or option."""

    exit_code = ExitCode.USAGE


class ConfigError(WarehouseError):
    """warehouse.toml (or a plan file) is invalid."""

    exit_code = ExitCode.USAGE


class QueryError(WarehouseError):
    """A query failed: bad SQL, unknown view or column."""

    exit_code = ExitCode.QUERY


class SchemaVersionError(WarehouseError):
    """The database schema does not match this code."""

    exit_code = ExitCode.SCHEMA


class LockedError(WarehouseError):
    """Another process holds the database for writing."""

    exit_code = ExitCode.LOCKED


class EndpointError(WarehouseError):
    """A model endpoint failed (message is redacted)."""

    exit_code = ExitCode.ENDPOINT


class DataError(WarehouseError):
    """Input data is unusable: corrupt archive, missing file, disk full."""

    exit_code = ExitCode.DATA


# Lines of a DuckDB error after the first that help the user fix it (the rest is the SQL echo).
_HINTS = ("Did you mean", "Candidate bindings", "Candidate functions", "HINT:", "Hint:")


def one_line(error: BaseException) -> str:
    """A (DuckDB) error as one line: its first line plus its hint lines ("Did you mean
    "model_ranking"?", candidate columns), joined by " — "; the echoed SQL is left out."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    hints = [line for line in lines[1:] if line.startswith(_HINTS)]
    return " — ".join([lines[0], *hints])
