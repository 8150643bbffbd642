"""The README cannot lie: every fenced command in it runs here, in order, like a newcomer would.

Blocks are run top to bottom in one temporary directory that starts like a fresh checkout after
`make demo`'s install step (the Makefile, the plan templates, and `.venv` pointing at this venv):

- ```bash blocks run as one `bash -e` script each and must exit 0;
- ```console blocks hold `$ command` lines followed by their output; stdout must equal it exactly;
- ```python blocks run with this interpreter and must exit 0.

`make X` runs the real Makefile recipe there (the install stamp is taken as up to date), except
`make test`, which is what runs this file: its recipe is only checked with `make -n`. "Your own
logs" (`~/old-evals/logs`) are the committed fixture corpus. A block preceded by
`<!-- readme-test: skip (reason) -->` is skipped with that reason; keep those few.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FIXTURES = Path(__file__).parent / "fixtures" / "runs"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")
TIMEOUT_S = 900

# Defines `make` for the blocks: the real Makefile, this venv, never `make test` (recursion).
PRELUDE = """
make() {
    if [ "$1" = test ]; then command make -n -f "$README_REPO/Makefile" -o .venv/.installed test >/dev/null
    else command make -f "$README_REPO/Makefile" -o .venv/.installed "$@"; fi
}
"""


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    text: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"L{self.line}-{self.lang}"


def readme_blocks(text: str) -> list[Block]:
    blocks = []
    for match in _FENCE.finditer(text):
        if match.group(1) not in ("bash", "console", "python"):
            continue
        before = text[: match.start()].rstrip("\n").splitlines()
        skip = _SKIP.search(before[-1]) if before else None
        line = text.count("\n", 0, match.start()) + 1
        blocks.append(Block(line, match.group(1), match.group(2), skip["reason"] if skip else None))
    return blocks


def console_steps(text: str) -> list[tuple[str, str]]:
    """(command, expected stdout) pairs; a command continues while its quotes are open."""
    steps: list[tuple[str, list[str]]] = []
    pending: list[str] | None = None
    for line in text.splitlines():
        if pending is not None:
            pending.append(line)
        elif line.startswith("$ "):
            pending = [line[2:]]
        elif steps:
            steps[-1][1].append(line)
            continue
        else:
            raise AssertionError(f"console block must start with '$ ': {line!r}")
        try:
            shlex.split("\n".join(pending))
        except ValueError:
            continue  # unbalanced quotes: the command goes on
        steps.append(("\n".join(pending), []))
        pending = None
    assert pending is None, "unterminated command in a console block"
    return [(cmd, "\n".join(out)) for cmd, out in steps]


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A directory laid out like a checkout after `make install`, and the environment to run in."""
    work = tmp_path_factory.mktemp("readme")
    (work / ".venv").symlink_to(Path(sys.prefix))
    shutil.copytree(ROOT / "runner" / "templates", work / "runner" / "templates")
    home = work / "home"
    shutil.copytree(FIXTURES, home / "old-evals" / "logs")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAREHOUSE_") and k != "VIRTUAL_ENV"}
    env |= {
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "README_REPO": str(ROOT),
        "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"],  # the session's (tests/conftest.py)
    }
    for var in ("OPENAI_API_KEY", "DEEPINFRA_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_API_KEY"):
        env.pop(var, None)
    return work, env


def _run(argv: list[str], work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def _explain(what: str, result: subprocess.CompletedProcess[str]) -> str:
    tail = f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    return f"{what}\nexit {result.returncode}\n{tail}"


def test_readme_has_the_two_commands_first_and_few_skips() -> None:
    first = BLOCKS[0]
    assert first.lang == "bash" and first.skip is None
    assert [ln.split("#")[0].strip() for ln in first.text.splitlines()] == ["make demo", "make test"]
    assert sum(b.skip is not None for b in BLOCKS) <= 3
    assert sum(b.lang == "console" for b in BLOCKS) >= 3  # the three queries, with their output


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block(block: Block, newcomer: tuple[Path, dict[str, str]]) -> None:
    if block.skip:
        pytest.skip(block.skip)
    work, env = newcomer
    if block.lang == "bash":
        result = _run(["bash", "-e", "-c", PRELUDE + block.text], work, env)
        assert result.returncode == 0, _explain(f"README line {block.line}: bash block failed", result)
    elif block.lang == "python":
        result = _run([sys.executable, "-c", block.text], work, env)
        assert result.returncode == 0, _explain(f"README line {block.line}: python block failed", result)
    else:
        for command, expected in console_steps(block.text):
            result = _run(["bash", "-e", "-c", PRELUDE + command], work, env)
            assert result.returncode == 0, _explain(f"README line {block.line}: {command}", result)
            got = "\n".join(line.rstrip() for line in result.stdout.rstrip("\n").splitlines())
            want = "\n".join(line.rstrip() for line in expected.rstrip("\n").splitlines())
            assert got == want, f"README line {block.line}: output of\n{command}\nis now\n{got}"


def test_console_parsing_keeps_multiline_commands_whole() -> None:
    steps = console_steps('$ duckdb -c "\n  select 1\n  as x"\nout 1\nout 2\n$ echo hi\nhi')
    assert steps == [('duckdb -c "\n  select 1\n  as x"', "out 1\nout 2"), ("echo hi", "hi")]
