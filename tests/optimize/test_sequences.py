"""Tests of pair tokenisation and the shared-prefix log-probability computation."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from prefkit.optimize.sequences import (
    SequenceError,
    as_messages,
    encode_pair,
    naive_pair_logps,
    pack_pairs,
    packed_pair_logps,
    pair_logps,
    token_logps,
)


def test_encode_pair_follows_chat_template(tokenizer: Any) -> None:
    """Prompt ends with the assistant header; completions end with <|im_end|>."""
    pair = encode_pair(tokenizer, "Hi?", "Hello.", "Go away.", system_prompt="S.")
    prompt = tokenizer.decode(pair.prompt_ids)
    assert prompt.startswith("<|im_start|>system\nS.<|im_end|>")
    assert prompt.endswith("<|im_start|>assistant\n")
    assert tokenizer.decode(pair.chosen_ids) == "Hello.<|im_end|>\n"
    assert tokenizer.decode(pair.rejected_ids) == "Go away.<|im_end|>\n"


def test_as_messages_keeps_given_system_prompt() -> None:
    """A system message already present is kept; otherwise one is added."""
    given = [{"role": "system", "content": "A"}, {"role": "user", "content": "q"}]
    assert as_messages(given, "B") == given
    assert as_messages("q", "B")[0] == {"role": "system", "content": "B"}


def test_encode_pair_truncates(tokenizer: Any) -> None:
    """The prompt keeps its end and completions fit in max_length."""
    long = " ".join(["word"] * 200)
    pair = encode_pair(
        tokenizer, long, long, "no", system_prompt="S", max_length=40,
        max_prompt_length=16,
    )  # fmt: skip
    assert len(pair.prompt_ids) == 16
    assert len(pair.prompt_ids) + len(pair.chosen_ids) == 40
    assert tokenizer.decode(pair.prompt_ids).endswith("assistant\n")


def test_encode_pair_no_room(tokenizer: Any) -> None:
    """max_length not above the prompt is refused with advice."""
    with pytest.raises(SequenceError, match="leaves no room"):
        encode_pair(
            tokenizer, "q " * 50, "a", "b", system_prompt="S", max_length=8,
            max_prompt_length=8,
        )  # fmt: skip


def test_encode_pair_keeps_one_prompt_token(tokenizer: Any) -> None:
    """max_prompt_length=1 keeps the prompt's last token, not the whole prompt."""
    pair = encode_pair(
        tokenizer, "q " * 50, "a", "b", system_prompt="S", max_length=2,
        max_prompt_length=1,
    )  # fmt: skip
    full = encode_pair(tokenizer, "q " * 50, "a", "b", system_prompt="S")
    assert pair.prompt_ids == full.prompt_ids[-1:]
    assert pair.chosen_ids == full.chosen_ids[:1]


def test_encode_pair_refuses_empty_prompt_budget(tokenizer: Any) -> None:
    """max_prompt_length=0 is refused (it used to keep the whole prompt)."""
    with pytest.raises(SequenceError, match="max_prompt_length must be >= 1"):
        encode_pair(
            tokenizer, "q", "a", "b", system_prompt="S", max_length=8,
            max_prompt_length=0,
        )  # fmt: skip


def test_pair_logps_matches_full_forward(tokenizer: Any, tiny_model: Any) -> None:
    """Shared-prefix, chunked log-probs equal a plain full log-softmax."""
    pair = encode_pair(
        tokenizer, "What is 2+2?", "It is 4.", "Maybe five or so, I think.",
        system_prompt="You are helpful.",
    )  # fmt: skip
    with torch.no_grad():
        fast = pair_logps(tiny_model, pair, chunk=3)
        slow = naive_pair_logps(tiny_model, pair)
    assert torch.allclose(fast, slow, atol=1e-4)


def test_pair_logps_gradients_match(tokenizer: Any, tiny_model: Any) -> None:
    """Gradients through the shared cache equal those of full forwards."""
    pair = encode_pair(tokenizer, "Q?", "Yes.", "No, never.", system_prompt="S.")
    weight = tiny_model.model.layers[0].self_attn.q_proj.weight
    (pair_logps(tiny_model, pair)[0] - pair_logps(tiny_model, pair)[1]).backward()
    fast = weight.grad.clone()
    tiny_model.zero_grad()
    slow_vals = naive_pair_logps(tiny_model, pair)
    (slow_vals[0] - slow_vals[1]).backward()
    assert torch.allclose(fast, weight.grad, atol=1e-5)


def test_token_logps_chunking_invariant() -> None:
    """The chunk size does not change token log-probabilities."""
    torch.manual_seed(0)
    head = torch.nn.Linear(4, 7, bias=False)
    hidden, targets = torch.randn(5, 4), torch.tensor([0, 3, 6, 2, 1])
    whole = torch.log_softmax(head(hidden), -1)[torch.arange(5), targets]
    for chunk in (1, 2, 5, 9):
        got = token_logps(hidden, head, targets, chunk)
        assert torch.allclose(got, whole, atol=1e-6)


def test_encode_completions_agrees_with_encode_pair(tokenizer: Any) -> None:
    """k completions share the prompt; the first two are the pair's."""
    from prefkit.optimize.sequences import encode_completions

    texts = ["Yes.", "No, never.", "Perhaps, on Tuesdays."]
    listed = encode_completions(tokenizer, "Q?", texts, system_prompt="S.")
    pair = encode_pair(tokenizer, "Q?", texts[0], texts[1], system_prompt="S.")
    assert listed.prompt_ids == pair.prompt_ids
    assert listed.completions[:2] == [pair.chosen_ids, pair.rejected_ids]
    assert tokenizer.decode(listed.completions[2]) == texts[2] + "<|im_end|>\n"


def test_score_completions_last_states_match_full_forward(
    tokenizer: Any, tiny_model: Any
) -> None:
    """Last hidden states over the shared cache equal those of full forwards."""
    from prefkit.optimize.sequences import encode_completions, score_completions

    texts = ["It is 4.", "Maybe five or so, I think.", "Four."]
    item = encode_completions(tokenizer, "What is 2+2?", texts, system_prompt="S.")
    with torch.no_grad():
        scored = score_completions(
            tiny_model, item.prompt_ids, item.completions, n_scored=2
        )
        full = [
            tiny_model.model(
                input_ids=torch.tensor([item.prompt_ids + c])
            ).last_hidden_state[0, -1]
            for c in item.completions
        ]
        pair = encode_pair(
            tokenizer, "What is 2+2?", texts[0], texts[1], system_prompt="S."
        )
        slow = naive_pair_logps(tiny_model, pair)
    assert scored.logps.shape == (2,) and scored.last_hidden.shape == (3, 16)
    assert torch.allclose(scored.last_hidden, torch.stack(full), atol=1e-5)
    assert torch.allclose(scored.logps, slow, atol=1e-4)


def _three_pairs(tokenizer: Any) -> list[Any]:
    """Pairs of different prompt and completion lengths."""
    return [
        encode_pair(tokenizer, "What is 2+2?", "It is 4.", "Five, I think, or so.",
                    system_prompt="You are helpful."),
        encode_pair(tokenizer, "Name a colour and say why you like it.", "Blue.",
                    "Green, because it is calm.", system_prompt="S."),
        encode_pair(tokenizer, "Hi", "Hello! How can I help you today?", "No.",
                    system_prompt="Be kind."),
    ]  # fmt: skip


def test_packed_pairs_give_each_pair_its_own_logps(
    tokenizer: Any, tiny_model: Any
) -> None:
    """Three pairs in one masked row: every completion gets the log-probability a
    plain full forward of its own pair gives (nothing leaks across pairs)."""
    pairs = _three_pairs(tokenizer)
    with torch.no_grad():
        packed = packed_pair_logps(tiny_model, pairs, chunk=5)
        alone = torch.stack([naive_pair_logps(tiny_model, p) for p in pairs])
    assert packed.shape == (3, 2)
    assert torch.allclose(packed, alone, atol=1e-4)


def test_packed_pairs_gradients_match(tokenizer: Any, tiny_model: Any) -> None:
    """The gradient of a packed DPO-like objective equals the per-pair sum."""
    pairs = _three_pairs(tokenizer)
    weight = tiny_model.model.layers[0].mlp.up_proj.weight
    packed = packed_pair_logps(tiny_model, pairs)
    (packed[:, 0] - 2 * packed[:, 1]).sum().backward()
    got = weight.grad.clone()
    tiny_model.zero_grad()
    for pair in pairs:
        one = pair_logps(tiny_model, pair)
        (one[0] - 2 * one[1]).backward()
    assert torch.allclose(got, weight.grad, atol=1e-5)


def test_pack_pairs_fills_packs_in_order(tokenizer: Any) -> None:
    """Hand case: sizes 10, 10, 25, 5 with room 20 give [0, 1], [2], [3]."""

    class Sized:
        def __init__(self, n: int) -> None:
            self.prompt_ids, self.chosen_ids, self.rejected_ids = [0] * n, [], []

    sizes = [Sized(n) for n in (10, 10, 25, 5)]
    assert pack_pairs(sizes, 20) == [[0, 1], [2], [3]]  # type: ignore[arg-type]
    assert pack_pairs(sizes, 1) == [[0], [1], [2], [3]]  # type: ignore[arg-type]
    assert pack_pairs(sizes, 100) == [[0, 1, 2, 3]]  # type: ignore[arg-type]
