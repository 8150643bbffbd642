"""Where each file of the benchmark corpus goes and what its runs were (stdlib only).

The layout the old launch scripts wrote: scattergun_phase2/, guardrailed/, sweepNNN/,
compare/, plans/, a few informal names and legacy/ old-era files, each family with its models and
run settings, plus the non-log files that sit next to them. Used by gen_corpus.py.
"""

from __future__ import annotations

import random

from corpus_shapes import RunSpec

SCATTERGUN_MODELS = (
    "deepseek-ai/DeepSeek-V3.1",
    "openai/gpt-oss-120b",
    "Qwen/Qwen3-235B-A22B-Instruct-2507",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct",
    "Qwen/Qwen3-Next-80B-A3B-Instruct",
    "Qwen/Qwen3-30B-A3B",
    "openai/gpt-oss-20b",
    "deepseek-ai/DeepSeek-V3-0324",
    "Qwen/Qwen3-32B",
    "Qwen/Qwen3-14B",
    "mistralai/Mistral-Small-3.2-24B-Instruct-2506",
    "deepseek-ai/DeepSeek-R1-0528",
    "moonshotai/Kimi-K2-Instruct-0905",
)
GUARDRAILED_MODELS = (
    "mistralai/Mixtral-8x7B-Instruct-v0.1",
    "mistralai/Mixtral-8x22B-Instruct-v0.1",
    "deepseek-ai/DeepSeek-V3.1",
    "moonshotai/Kimi-K2-Instruct-0905",
)
COMPARE_MODELS = (
    ("deepinfra", "deepseek-ai/DeepSeek-R1"),
    ("deepinfra", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
    ("openai", "gpt-4.1"),
)
STAGES = {"breadth": (4, 2, 8, 0, True), "depth": (6, 3, 10, 1, True), "long": (8, 4, 12, 1, True)}
MIXTRAL = "mistralai/Mixtral-8x7B-Instruct-v0.1"


def slug_us(model: str) -> str:
    """Scattergun / guardrailed file-name escaping: '/' and '.' become '_'."""
    return model.replace("/", "_").replace(".", "_")


def slug_dash(model: str) -> str:
    """sweep_minisuite / run_models escaping: '/' becomes '-'."""
    return model.replace("/", "-")


def plan_file(i: int, steps: int, rng: random.Random, legacy: bool = False) -> tuple[str, RunSpec]:
    """Relative path and run settings of file i (the family decides both; `legacy`: an old era)."""
    roll = rng.random()
    spec = RunSpec(steps=steps)
    if legacy:
        return legacy_file(i, spec)
    if roll < 0.33:
        stage = ("breadth", "depth", "long")[i % 3]
        model = SCATTERGUN_MODELS[(i // 3) % len(SCATTERGUN_MODELS)]
        best_of, scx, budget, boosts, idk = STAGES[stage]
        spec.update(
            model=model,
            provider="deepinfra",
            best_of=best_of,
            sc_extract=scx,
            budget=budget,
            boosts=boosts,
            q_min=2,
            idk=idk,
            sc=3,
            rerank="evidence",
            tools=["tfidf_retriever", "option_retriever"],
            guardrails="abs",
            anon_seed=4242420 + i,
        )
        return f"scattergun_phase2/{stage}/{slug_us(model)}_seed{4242420 + i}_N{steps}.jsonl", spec
    if roll < 0.58:
        model = GUARDRAILED_MODELS[i % len(GUARDRAILED_MODELS)]
        spec.update(
            model=model,
            provider="deepinfra",
            best_of=8,
            sc_extract=3,
            budget=12,
            q_min=2,
            sc=3,
            rerank="evidence",
            tools=["tfidf_retriever", "option_retriever"],
            guardrails="rel",
            anon_seed=424240 + i,
        )
        return f"guardrailed/{slug_us(model)}_state{i + 1:03d}.jsonl", spec
    if roll < 0.73:
        combo = i % 8
        provider, model = (("deepinfra", MIXTRAL), ("openai", "default"))[combo % 2]
        sc, budget = (1, 3)[(combo // 2) % 2], (6, 8)[combo // 4]
        spec.update(
            model=model,
            provider=provider,
            sc=sc,
            budget=budget,
            idk=True,
            target_conf=0.6,
            tools=["tfidf_retriever"],
            anon_seed=424242,
        )
        return f"sweep{i:05d}/exp/{provider}_{slug_dash(model)}_sc{sc}_b{budget}.jsonl", spec
    if roll < 0.86:
        provider, model = COMPARE_MODELS[i % 3]
        spec.update(
            model=model,
            provider=provider,
            sc=3,
            sc_extract=3,
            budget=10,
            student="llm",
            tools=["tfidf_retriever"],
        )
        return f"compare/{provider}_{slug_dash(model)}/batch_{i}.jsonl", spec
    if roll < 0.91:
        plan = ("nightly", "ablation-cards", "tau-sweep")[i % 3]
        model = SCATTERGUN_MODELS[i % len(SCATTERGUN_MODELS)]
        spec.update(
            model=model,
            provider="deepinfra",
            sc=3,
            budget=10,
            schema_version=2,
            tools=["tfidf_retriever", "option_retriever"],
            plan=plan,
            anon_seed=900000 + i,
        )
        return f"plans/{plan}/deepinfra_{slug_us(model)}_seed{900000 + i}.jsonl", spec
    if roll < 0.97:
        name, extra = (
            (f"strict/oracle_strict_q1_v{i}", {"student": "oracle", "model": "oracle", "sc": 7}),
            (
                f"holdout/mixtral_postcutoff_t060_rag_on_{i}",
                {"model": MIXTRAL, "idk": True, "target_conf": 0.6},
            ),
            (f"live/deepseek_r1_maxdial_N{steps}_{i}", {"model": "deepseek-ai/DeepSeek-R1", "sc": 5}),
            (f"fc_sc3_v2_batch{i}", {"model": "deepseek-ai/DeepSeek-R1", "sc": 3, "student": "llm"}),
        )[i % 4]
        spec.update(provider="deepinfra", tools=["tfidf_retriever"], budget=10, **extra)
        return f"{name}.jsonl", spec
    return legacy_file(i, spec)


def legacy_file(i: int, spec: RunSpec) -> tuple[str, RunSpec]:
    """An old-era log: v0 (no header) or v1 (a header with 11 dials)."""
    era = ("v0", "v1")[i % 2]
    spec.update(era=era, model=MIXTRAL, provider="deepinfra", student="llm")
    return f"legacy/2025-09-02/{era}_live_{i}.jsonl", spec


def side_files(i: int, relpath: str) -> list[tuple[str, bytes]]:
    """Non-log files that sit in real runs/ trees (ingest must skip them)."""
    if relpath.startswith("compare/") and i < 3:
        base = relpath.rsplit("/", 1)[0]
        return [
            (f"{base}/batch_{i}.stderr", b"progress: step 1/5\n"),
            (f"{base}/aggregate.json", b'{"files": 1}\n'),
        ]
    if relpath.startswith("guardrailed/") and i < 8:
        return [("guardrailed/failures.txt", b"model=x seed=1\n")]
    return []
