"""``prefkit demo``: the main job on the embedded model, with no input at all.

About 30 built-in instructions (facts, arithmetic, short writing, advice;
``demo_instructions.jsonl``, written for prefkit) are answered by four
"systems" built from the embedded SmolLM2-135M-Instruct, judged in both
orders by the two embedded judges (the A/B verdict judge ``local`` and the
likelihood judge), combined by a jury, ranked, audited and reported.
"""

from __future__ import annotations

from prefkit.evaluate.config import EvaluateConfig, SystemSpec

DEMO_OUTPUT = "prefkit-demo"

#: The candidate systems: the same small model steered four ways.
DEMO_SYSTEMS: tuple[SystemSpec, ...] = (
    SystemSpec(name="smollm2-plain", max_tokens=64),
    SystemSpec(
        name="smollm2-concise",
        system_prompt="You are a helpful AI assistant. Answer in one short, "
        "correct sentence.",
        max_tokens=64,
    ),
    SystemSpec(
        name="smollm2-verbose",
        system_prompt="You are a helpful AI assistant. Answer thoroughly, with "
        "background, details and examples.",
        max_tokens=64,
    ),
    # the plain answers cut to their first six words: deliberately weakened
    SystemSpec(name="smollm2-truncated", max_tokens=64, truncate_words=6),
)

#: Both embedded judges; the jury averages their probabilities.
DEMO_JUDGES: tuple[str, ...] = ("local", "likelihood")

DEMO_NOTES: tuple[str, ...] = (
    "This is prefkit's demo: 30 built-in instructions answered by four systems "
    "built from the embedded SmolLM2-135M-Instruct (plain, a concise system "
    "prompt, a verbose system prompt, and plain answers truncated to six words); "
    "each of the other three is paired with the plain system on every "
    "instruction, judged in both orders by two embedded judges and by their "
    "jury.",
    "Expect the A/B verdict judge ('local') to be position-biased: the 135M model "
    "answers 'A' whichever response is shown first, so its verdicts carry almost "
    "no signal about quality. The likelihood judge (mean per-token log-likelihood "
    "of each response) is the embedded judge that carries signal. The audit "
    "below measures this rather than assuming it.",
)


def demo_config(
    output: str = DEMO_OUTPUT,
    *,
    n_prompts: int | None = None,
    pairs: str = "baseline:smollm2-plain",
    seed: int = 0,
) -> EvaluateConfig:
    """The demo's settings (``n_prompts`` keeps the first N instructions)."""
    prompts = "demo" if n_prompts is None else f"demo:{n_prompts}"
    return EvaluateConfig(
        prompts=prompts,
        systems=DEMO_SYSTEMS,
        judges=DEMO_JUDGES,
        jury="mean",
        pairs=pairs,
        baseline="smollm2-plain",
        dual_order=True,
        rounds=500,
        n_uncertain=15,
        output=output,
        title="prefkit demo: four SmolLM2 systems judged by the embedded jury",
        seed=seed,
        notes=DEMO_NOTES,
    )
