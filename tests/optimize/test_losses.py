"""Tests of the preference losses: hand-computed values, closed forms, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from prefkit.optimize.losses import (
    LOSS_NAMES,
    LOSSES,
    LossInputError,
    PreferenceLogps,
    compute_loss,
    hyper_parameters,
    plackett_luce_loss,
    soft_labels,
)


def softplus(x: float) -> float:
    """log(1 + e^x), written out."""
    return math.log(1.0 + math.exp(x))


# two pairs; chosen log-ratios 0.5, -0.2; rejected -0.5, -0.5; so h = 1.0, 0.3
POLICY_C, POLICY_R = [-1.0, -2.0], [-3.0, -1.5]
REF_C, REF_R = [-1.5, -1.8], [-2.5, -1.0]
H = [1.0, 0.3]


def batch(**extra: torch.Tensor) -> PreferenceLogps:
    """The two-pair batch above, with optional extra fields."""
    t = torch.tensor
    return PreferenceLogps(
        t(POLICY_C), t(POLICY_R), t(REF_C), t(REF_R),
        chosen_length=t([2.0, 4.0]), rejected_length=t([1.0, 3.0]), **extra,
    )  # fmt: skip


def check(name: str, expected: list[float], logps: PreferenceLogps, **p: float) -> None:
    """Loss ``name`` on ``logps`` equals ``expected`` per example."""
    out = compute_loss(name, logps, **p)
    assert out.losses.tolist() == pytest.approx(expected, abs=1e-6)


def test_dpo_two_examples() -> None:
    """DPO is softplus(-beta h) per pair."""
    check("dpo", [softplus(-0.5 * h) for h in H], batch(), beta=0.5)


def test_ipo_two_examples() -> None:
    """IPO is (h - 1/(2 beta))^2: 0 at h = 1, 0.49 at h = 0.3 for beta = 0.5."""
    check("ipo", [0.0, 0.49], batch(), beta=0.5)


def test_cdpo_two_examples() -> None:
    """cDPO mixes the two label directions with weights 1 - eps and eps."""
    want = [0.8 * softplus(-0.5 * h) + 0.2 * softplus(0.5 * h) for h in H]
    check("cdpo", want, batch(), beta=0.5, epsilon=0.2)


def test_rdpo_two_examples() -> None:
    """Robust DPO subtracts the flipped term and divides by 1 - 2 eps."""
    want = [(0.8 * softplus(-0.5 * h) - 0.2 * softplus(0.5 * h)) / 0.6 for h in H]
    check("rdpo", want, batch(), beta=0.5, epsilon=0.2)


def test_hinge_two_examples() -> None:
    """Hinge is max(0, 1 - beta h): 0.5 and 0.85 for beta = 0.5."""
    check("hinge", [0.5, 0.85], batch(), beta=0.5)
    check("hinge", [0.0, 0.4], batch(), beta=2.0)


def test_simpo_two_examples() -> None:
    """SimPO uses beta * logp / length and the margin gamma, no reference."""
    # rewards: chosen 2*(-1)/2 = -1, 2*(-2)/4 = -1; rejected 2*(-3)/1 = -6, -1
    logps = PreferenceLogps(
        torch.tensor(POLICY_C),
        torch.tensor(POLICY_R),
        chosen_length=torch.tensor([2.0, 4.0]),
        rejected_length=torch.tensor([1.0, 3.0]),
    )
    check("simpo", [softplus(-4.5), softplus(0.5)], logps, beta=2.0, gamma=0.5)
    out = compute_loss("simpo", logps, beta=2.0, gamma=0.5)
    assert out.chosen_rewards.tolist() == pytest.approx([-1.0, -1.0])
    assert out.rejected_rewards.tolist() == pytest.approx([-6.0, -1.0])


def test_dove_equals_dpo_formula_on_joint_pairs() -> None:
    """DOVE's value is the DPO form over (instruction, response) log-ratios."""
    check("dove", [softplus(-0.5 * h) for h in H], batch(), beta=0.5)


def test_rationale_adds_rationale_likelihood() -> None:
    """Rationale DPO adds -gamma * log p(rationale)."""
    logps = batch(rationale=torch.tensor([-2.0, -4.0]))
    want = [softplus(-0.5 * 1.0) + 1.0, softplus(-0.5 * 0.3) + 2.0]
    check("rationale", want, logps, beta=0.5, gamma=0.5)


def test_spo_adds_degree_cross_entropy() -> None:
    """SPO adds lambda times the cross-entropy of the degree class."""
    logps = batch(
        degree_logits=torch.tensor([[0.0, 0.0], [1.0, 0.0]]),
        degree=torch.tensor([0, 1]),
    )
    # -log softmax: [0,0] class 0 -> ln 2; [1,0] class 1 -> log(e + 1)
    want = [
        softplus(-0.5) + 0.1 * math.log(2.0),
        softplus(-0.15) + 0.1 * math.log(math.e + 1.0),
    ]
    check("spo", want, logps, beta=0.5, lambda_=0.1)


def test_smpo_scales_margin_by_soft_label() -> None:
    """SmPO uses (2 alpha - gamma) beta h: labels 1 and 0.75 give 0.5 and 0.075."""
    logps = batch(label=torch.tensor([1.0, 0.75]))
    check("smpo", [softplus(-0.5), softplus(-0.075)], logps, beta=0.5)


def test_smpo_half_label_has_no_gradient() -> None:
    """A soft label of 1/2 makes the pair exert no gradient."""
    policy = torch.tensor(POLICY_C, requires_grad=True)
    logps = PreferenceLogps(
        policy, torch.tensor(POLICY_R), torch.tensor(REF_C), torch.tensor(REF_R),
        label=torch.tensor([0.5, 0.5]),
    )  # fmt: skip
    compute_loss("smpo", logps, beta=0.5).losses.sum().backward()
    assert policy.grad is not None
    assert policy.grad.abs().max().item() == 0.0


def test_listwise_three_responses_by_hand() -> None:
    """Plackett-Luce over u = [0, -1, -2]: two softmax terms."""
    policy = torch.tensor([[-1.0, -2.0, -3.0]])
    reference = torch.tensor([[-1.0, -1.0, -1.0]])
    e = math.exp
    want = -(0 - math.log(e(0) + e(-1) + e(-2))) - (-1 - math.log(e(-1) + e(-2)))
    got = plackett_luce_loss(policy, reference, beta=1.0)
    assert got.tolist() == pytest.approx([want])
    out = compute_loss(
        "listwise",
        batch(policy_ranked=policy, reference_ranked=reference),
        beta=1.0,
    )
    assert out.losses.tolist() == pytest.approx([want])
    assert out.chosen_rewards.tolist() == pytest.approx([0.0])
    assert out.rejected_rewards.tolist() == pytest.approx([-2.0])


def test_listwise_of_two_is_dpo() -> None:
    """With k = 2 the Plackett-Luce loss is the DPO loss."""
    a = compute_loss("listwise", batch(), beta=0.7).losses
    b = compute_loss("dpo", batch(), beta=0.7).losses
    assert torch.allclose(a, b)


def equal_batch() -> PreferenceLogps:
    """Policy equal to reference."""
    c, r = torch.tensor([-3.0, -7.0]), torch.tensor([-5.0, -2.0])
    return PreferenceLogps(c, r, c.clone(), r.clone(), label=torch.tensor([1.0, 1.0]))


@pytest.mark.parametrize("name", ["dpo", "cdpo", "rdpo", "dove", "smpo", "listwise"])
def test_policy_equal_reference_gives_ln2(name: str) -> None:
    """At policy = reference, sigmoid-family losses equal ln 2."""
    out = compute_loss(name, equal_batch(), beta=0.3)
    assert out.losses.tolist() == pytest.approx([math.log(2)] * 2)


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_ipo_closed_form(beta: float) -> None:
    """At policy = reference, IPO (summed log-ratios, eq. 17) is 1 / (4 beta^2)."""
    out = compute_loss("ipo", equal_batch(), beta=beta)
    assert out.losses.tolist() == pytest.approx([1 / (4 * beta**2)] * 2)


def test_hinge_closed_form() -> None:
    """At policy = reference, the hinge loss is 1."""
    assert compute_loss("hinge", equal_batch()).losses.tolist() == [1.0, 1.0]


def full_batch(c: torch.Tensor, r: torch.Tensor) -> PreferenceLogps:
    """A float64 batch with every optional field, around c and r."""
    d = torch.float64
    return PreferenceLogps(
        c, r,
        torch.tensor([-1.3, -0.4], dtype=d), torch.tensor([-0.2, -2.1], dtype=d),
        chosen_length=torch.tensor([3.0, 5.0], dtype=d),
        rejected_length=torch.tensor([2.0, 4.0], dtype=d),
        label=torch.tensor([0.9, 0.6], dtype=d),
        rationale=c * 0.5,
        degree_logits=torch.stack([c, r], -1),
        degree=torch.tensor([1, 0]),
    )  # fmt: skip


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_gradcheck(name: str) -> None:
    """Analytic gradients match finite differences in float64."""

    def f(c: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        return compute_loss(name, full_batch(c, r), beta=0.5).losses

    c = torch.tensor([-1.1, -0.7], dtype=torch.float64, requires_grad=True)
    r = torch.tensor([-0.3, -2.9], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f, (c, r))


def swapped(logps: PreferenceLogps) -> PreferenceLogps:
    """The same pairs with chosen and rejected exchanged."""
    assert logps.label is not None
    return PreferenceLogps(
        logps.policy_rejected, logps.policy_chosen,
        logps.reference_rejected, logps.reference_chosen,
        chosen_length=logps.rejected_length, rejected_length=logps.chosen_length,
        label=1 - logps.label, rationale=logps.rationale,
        degree_logits=logps.degree_logits, degree=logps.degree,
    )  # fmt: skip


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_swap_flips_implied_margin(name: str) -> None:
    """Swapping chosen and rejected negates the implied reward margin."""
    logps = full_batch(
        torch.tensor([-1.1, -0.7], dtype=torch.float64),
        torch.tensor([-0.3, -2.9], dtype=torch.float64),
    )
    a = compute_loss(name, logps, beta=0.5)
    b = compute_loss(name, swapped(logps), beta=0.5)
    margin = a.chosen_rewards - a.rejected_rewards
    assert torch.allclose(b.chosen_rewards - b.rejected_rewards, -margin)
    assert margin.abs().min() > 0


def test_dpo_swap_changes_loss_by_margin() -> None:
    """softplus(x) - softplus(-x) = x: DPO(swapped) - DPO = beta h."""
    a = compute_loss("dpo", batch(), beta=0.5).losses
    b = compute_loss("dpo", swapped(batch(label=torch.ones(2))), beta=0.5).losses
    assert (b - a).tolist() == pytest.approx([0.5 * h for h in H])


def test_soft_labels_bradley_terry() -> None:
    """Soft labels are sigmoid((s_w - s_l) / T)."""
    got = soft_labels(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 0.0]), 2.0)
    assert got.tolist() == pytest.approx([1 / (1 + math.exp(-1)), 0.5])


def test_registry_complete() -> None:
    """Every Literal name is registered and has at least beta."""
    assert set(LOSSES) == set(LOSS_NAMES)
    for name in LOSS_NAMES:
        assert "beta" in hyper_parameters(name)


def test_unknown_loss_lists_valid_names() -> None:
    """An unknown loss name lists the valid ones."""
    with pytest.raises(LossInputError, match=r"unknown loss 'kto'.*dpo, ipo"):
        compute_loss("kto", batch())


def test_unknown_hyper_parameter() -> None:
    """A hyper-parameter the loss does not take is refused with the valid ones."""
    with pytest.raises(LossInputError, match=r"no hyper-parameter epsilon.*beta"):
        compute_loss("dpo", batch(), epsilon=0.1)


def test_missing_reference() -> None:
    """A reference-based loss without reference log-probs names the field."""
    logps = PreferenceLogps(torch.zeros(2), torch.zeros(2))
    with pytest.raises(LossInputError, match="needs `reference_chosen`"):
        compute_loss("dpo", logps)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("smpo", "label"),
        ("rationale", "rationale"),
        ("spo", "degree_logits"),
        ("simpo", "chosen_length"),
    ],
)
def test_missing_extra_field(name: str, field: str) -> None:
    """Losses needing an extra input say which one is missing."""
    logps = PreferenceLogps(*(torch.zeros(2) for _ in range(4)))
    with pytest.raises(LossInputError, match=f"needs `{field}`"):
        compute_loss(name, logps)


def test_shape_mismatch() -> None:
    """Per-pair fields must have the shape of policy_chosen."""
    logps = PreferenceLogps(
        torch.zeros(2), torch.zeros(3), torch.zeros(2), torch.zeros(2)
    )
    with pytest.raises(LossInputError, match=r"`policy_rejected` has shape \(3,\)"):
        compute_loss("dpo", logps)


def test_policy_must_be_1d() -> None:
    """A 2-D policy_chosen is refused."""
    logps = PreferenceLogps(*(torch.zeros(2, 1) for _ in range(4)))
    with pytest.raises(LossInputError, match="must be 1-D"):
        compute_loss("dpo", logps)


@pytest.mark.parametrize("name", ["dpo", "ipo", "hinge", "simpo"])
def test_beta_must_be_positive(name: str) -> None:
    """beta <= 0 is refused with the received value."""
    with pytest.raises(LossInputError, match=r"`beta` must be > 0 \(got 0.0\)"):
        compute_loss(name, batch(), beta=0.0)


@pytest.mark.parametrize(
    ("name", "eps"), [("cdpo", 1.0), ("rdpo", 0.5), ("rdpo", -0.1)]
)
def test_epsilon_range(name: str, eps: float) -> None:
    """The flip rate must lie in its interval."""
    with pytest.raises(LossInputError, match="`epsilon` must be in"):
        compute_loss(name, batch(), epsilon=eps)


def test_listwise_shape_check() -> None:
    """Ranked log-probs of different shapes are refused."""
    logps = batch(policy_ranked=torch.zeros(1, 3), reference_ranked=torch.zeros(1, 2))
    with pytest.raises(LossInputError, match="same shape"):
        compute_loss("listwise", logps)


def test_soft_labels_temperature() -> None:
    """A non-positive temperature is refused."""
    with pytest.raises(LossInputError, match="`temperature` must be > 0"):
        soft_labels(torch.zeros(1), torch.zeros(1), 0.0)
