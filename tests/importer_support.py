"""Write other harnesses' result files with the real tools, offline, for the importer tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# One small question set shared by every harness's files, so paired comparisons can pair them.
QUESTIONS = [("What is 1+1?", "2"), ("What is 2+2?", "4"), ("Capital of France?", "Paris")]
# What the mock model answers (the second question wrong).
MOCK_ANSWERS = {"What is 1+1?": "2", "What is 2+2?": "5", "Capital of France?": "Paris"}


def write_inspect_log(log_dir: Path, epochs: int = 2, log_format: str = "eval") -> Path:
    """Run a real Inspect eval on its mock model (no network) and return the .eval log's path."""
    from inspect_ai import Task, eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate

    def reply(messages: list[Any], *_: object) -> ModelOutput:
        question = messages[-1].text
        out = ModelOutput.from_content(model="mockllm/model", content=MOCK_ANSWERS[question])
        # Set usage: otherwise the mock counts tokens with tiktoken, which downloads its tables.
        out.usage = ModelUsage(
            input_tokens=len(question.split()), output_tokens=1, total_tokens=len(question.split()) + 1
        )
        return out

    task = Task(
        dataset=[Sample(input=q, target=a, id=f"q{i}") for i, (q, a) in enumerate(QUESTIONS)],
        solver=[generate()],
        scorer=includes(),
        epochs=epochs,
        name="arith",
    )
    model = get_model("mockllm/model", custom_outputs=reply)
    logs = eval(
        task, model=model, log_dir=str(log_dir), display="none", temperature=0.2, log_format=log_format
    )
    assert logs[0].status == "success", logs[0].error
    return Path(logs[0].location)
