"""code, proof and table_qa steps: small fixed exercises, answered by the offline students and
checked mechanically, in the simulator's logged shapes.

Each exercise offers a few candidate answers (one right, the others plausible mistakes). The
oracle gives the right one; lexical picks the candidate sharing most words with the prompt (ties:
a seeded order); random picks one at random (seeded by run seed and step). Step k asks exercise
k modulo the number of exercises of its task type.
  code      evaluation {ok, passed, total, results[{args, kwargs, ok, expected, got} | {args,
            kwargs, ok: false, error}]}, or {ok: false, error} when the code does not define the
            function. The candidates are this module's own strings, run with exec.
  proof     evaluation {ok, missing_keywords}: keywords of the statement's proof not in the step.
  table_qa  evaluation {ok, expected, got}: the answer compared with the table's cell.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from runner.students import Student
from runner.text import token_set
from warehouse.core.logformat import Answer, Evaluation, Task

_CODE: list[dict[str, Any]] = [
    {
        "function_name": "add",
        "description": "Implement add(a,b)",
        "tests": [([2, 3], 5), ([-1, 4], 3)],
        "candidates": [
            "def add(a, b):\n    return a + b\n",
            "def add(a, b):\n    return a - b\n",
            "def add(a, b)\n    return a + b\n",
        ],
    },
    {
        "function_name": "larger",
        "description": "Implement larger(a,b): return the larger of a and b",
        "tests": [([2, 3], 3), ([5, -1], 5), ([4, 4], 4)],
        "candidates": [
            "def larger(a, b):\n    # the larger of a and b\n    return a if a >= b else b\n",
            "def larger(a, b):\n    return a if a < b else b\n",
            "def bigger(a, b):\n    return max(a, b)\n",
        ],
    },
    {
        "function_name": "reverse",
        "description": "Implement reverse(s): return the string s reversed",
        "tests": [(["abc"], "cba"), ([""], "")],
        "candidates": [
            "def reverse(s):\n    # the string s reversed\n    return s[::-1]\n",
            "def reverse(s):\n    return s[1:]\n",
            "def reverse(s):\n    return len(s)\n",
        ],
    },
]

_PROOF: list[dict[str, Any]] = [
    {
        "statement": "Show that the sum of two even numbers is even.",
        "keywords": ["2m", "2n", "2(m+n)"],
        "candidates": [
            "Let the numbers be 2m and 2n; their sum 2m+2n = 2(m+n) is even.",
            "Even numbers added give an even number.",
            "Let the numbers be 2m and 2n; their sum is 2m+2n.",
        ],
    },
    {
        "statement": "Show that the product of two odd numbers is odd.",
        "keywords": ["2m+1", "2n+1", "2(2mn+m+n)+1"],
        "candidates": [
            "Write the odd numbers as 2m+1 and 2n+1; the product is 2(2mn+m+n)+1, which is odd.",
            "The product of two odd numbers is odd because odd times odd is odd.",
            "Write them as 2m+1 and 2n+1; the product is 4mn+2m+2n+1.",
        ],
    },
]

_TABLE = [("north", 14), ("south", 9), ("east", 21), ("west", 9)]
_TABLE_QA: list[dict[str, Any]] = [
    {
        "question": "Which region has the largest total?",
        "expected": "east",
        "candidates": ["east", "north", "west"],
    },
    {"question": "What is the total of the north region?", "expected": "14", "candidates": ["14", "21", "9"]},
    {"question": "How many regions have a total of 9?", "expected": "2", "candidates": ["2", "1", "9"]},
]
TABLE_TEXT = "region | total\n" + "\n".join(f"{name} | {total}" for name, total in _TABLE)

EXERCISES = {"code": _CODE, "proof": _PROOF, "table_qa": _TABLE_QA}


@dataclass(frozen=True)
class Exercise:
    task: str
    spec: dict[str, Any]

    @property
    def prompt(self) -> str:
        return str(self.spec.get("description") or self.spec.get("statement") or self.spec["question"])

    def task_block(self) -> Task:
        if self.task == "code":
            return {"type": "code", "function_name": self.spec["function_name"], "description": self.prompt}
        if self.task == "proof":
            return {"type": "proof", "statement": self.prompt}
        return {"type": "table_qa", "question": self.prompt}

    def presented_stem(self) -> str:
        return f"TABLE:\n{TABLE_TEXT}\n\nQUESTION: {self.prompt}" if self.task == "table_qa" else ""


def exercise(task: str, step: int) -> Exercise:
    items = EXERCISES[task]
    return Exercise(task, items[step % len(items)])


def choose(student: Student, ex: Exercise, seed: int, step: int) -> str:
    """The student's answer: one of the exercise's candidates (the first is the right one)."""
    candidates: list[str] = ex.spec["candidates"]
    if student.kind == "oracle":
        return candidates[0]
    rng = random.Random(f"{seed}:{step}:{ex.task}")
    if student.kind == "lexical":  # ties go to a seeded order, never to the right answer's slot
        shuffled = rng.sample(candidates, len(candidates))
        return max(shuffled, key=lambda c: len(token_set(c) & token_set(ex.prompt)))
    return rng.choice(candidates)


def answer_block(ex: Exercise, text: str) -> Answer:
    if ex.task == "code":
        return {"code": text}
    if ex.task == "proof":
        return {"step": text}
    return {"answer": text}


def evaluate(ex: Exercise, text: str) -> Evaluation:
    if ex.task == "code":
        return run_code(ex.spec["function_name"], text, ex.spec["tests"])
    if ex.task == "proof":
        missing = [k for k in ex.spec["keywords"] if k.replace(" ", "") not in text.replace(" ", "")]
        return {"ok": not missing, "missing_keywords": missing}
    got = text.strip().lower()
    return {"ok": got == ex.spec["expected"], "expected": ex.spec["expected"], "got": got}


def run_code(name: str, source: str, tests: list[tuple[list[Any], Any]]) -> Evaluation:
    namespace: dict[str, Any] = {}
    try:
        exec(compile(source, f"<{name}>", "exec"), namespace)
    except SyntaxError as e:
        return {"ok": False, "error": f"SyntaxError: {e.msg}"}
    func = namespace.get(name)
    if not callable(func):
        return {"ok": False, "error": f"NameError: {name} is not defined"}
    results: list[dict[str, Any]] = []
    for args, expected in tests:
        try:
            got = func(*args)
        except Exception as e:  # noqa: BLE001 -- a failing test is a result, not a crash
            results.append({"args": args, "kwargs": {}, "ok": False, "error": f"{type(e).__name__}: {e}"})
            continue
        results.append({"args": args, "kwargs": {}, "ok": got == expected, "expected": expected, "got": got})
    passed = sum(bool(r["ok"]) for r in results)
    return {"ok": passed == len(results), "passed": passed, "total": len(results), "results": results}
