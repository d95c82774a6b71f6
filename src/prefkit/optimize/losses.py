"""Preference-optimization losses as small pure functions of log-probabilities.

Every loss takes a :class:`PreferenceLogps` (per-sequence log-probabilities of
the chosen and rejected responses under the policy and the reference model,
plus the optional extras some losses need) and its hyper-parameters, and
returns a :class:`LossOutput`: the loss of each example and the implied
rewards. Nothing here reduces over the batch, touches a model or keeps state,
so the same functions serve :class:`~prefkit.optimize.trainer.PreferenceTrainer`,
the TRL adapter and the tests.

Notation (shared by every docstring): for a pair :math:`(x, y_w, y_l)`,

.. math::

    h = \\log\\frac{\\pi_\\theta(y_w|x)}{\\pi_{ref}(y_w|x)}
      - \\log\\frac{\\pi_\\theta(y_l|x)}{\\pi_{ref}(y_l|x)}

is the log-ratio margin; the implied reward of a response is
:math:`\\beta \\log \\pi_\\theta(y|x) / \\pi_{ref}(y|x)` [DPO].
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

import torch
from torch import Tensor
from torch.nn.functional import cross_entropy, logsigmoid

from prefkit.errors import PrefkitError

LossName = Literal[
    "dpo",
    "ipo",
    "cdpo",
    "rdpo",
    "hinge",
    "simpo",
    "dove",
    "rationale",
    "spo",
    "smpo",
    "listwise",
]
LOSS_NAMES: tuple[LossName, ...] = get_args(LossName)


class LossInputError(PrefkitError, ValueError):
    """A loss was asked for with inputs or hyper-parameters it cannot use."""


@dataclass(frozen=True)
class PreferenceLogps:
    """Per-sequence log-probabilities of a batch of preference pairs.

    Attributes
    ----------
    policy_chosen, policy_rejected : Tensor of shape (n_pairs,)
        Summed log-probabilities of the chosen / rejected responses under
        the policy being trained.
    reference_chosen, reference_rejected : Tensor of shape (n_pairs,) or None
        The same under the frozen reference model (None for reference-free
        losses such as SimPO).
    chosen_length, rejected_length : Tensor of shape (n_pairs,) or None
        Number of response tokens (SimPO's length normalisation).
    label : Tensor of shape (n_pairs,) or None
        Soft label: probability that the chosen response is preferred
        (SmPO), for instance from reward-model scores.
    rationale : Tensor of shape (n_pairs,) or None
        Policy log-probability of the rationale given the prompt and the
        ordered pair (rationale-enriched DPO).
    degree_logits : Tensor of shape (n_pairs, n_degrees) or None
        Scores the model gives to each preference-degree class (SPO).
    degree : Tensor of shape (n_pairs,) or None
        Integer preference-degree class of each pair (SPO).
    policy_ranked, reference_ranked : Tensor of shape (n_lists, k) or None
        Log-probabilities of k responses ranked best first (listwise loss).
    """

    policy_chosen: Tensor
    policy_rejected: Tensor
    reference_chosen: Tensor | None = None
    reference_rejected: Tensor | None = None
    chosen_length: Tensor | None = None
    rejected_length: Tensor | None = None
    label: Tensor | None = None
    rationale: Tensor | None = None
    degree_logits: Tensor | None = None
    degree: Tensor | None = None
    policy_ranked: Tensor | None = None
    reference_ranked: Tensor | None = None


@dataclass(frozen=True)
class LossOutput:
    """What a loss returns.

    Attributes
    ----------
    losses : Tensor of shape (n_pairs,)
        Loss of each example (the trainer averages them).
    chosen_rewards, rejected_rewards : Tensor of shape (n_pairs,)
        Implied rewards of the chosen / rejected responses (detached).
    """

    losses: Tensor
    chosen_rewards: Tensor
    rejected_rewards: Tensor


LossFn = Callable[..., LossOutput]


# -- shared pieces ---------------------------------------------------------


def _need(logps: PreferenceLogps, name: str, loss: str) -> Tensor:
    """The field ``name`` of ``logps``, or a clear error naming the loss."""
    value = getattr(logps, name)
    if value is None:
        raise LossInputError(
            f"loss '{loss}' needs `{name}` in PreferenceLogps (got None); "
            f"compute it and pass it, or choose a loss that does not use it"
        )
    return value


def log_ratios(logps: PreferenceLogps, loss: str) -> tuple[Tensor, Tensor]:
    """Chosen and rejected log-ratios policy / reference."""
    ref_c = _need(logps, "reference_chosen", loss)
    ref_r = _need(logps, "reference_rejected", loss)
    return logps.policy_chosen - ref_c, logps.policy_rejected - ref_r


def _rewarded(losses: Tensor, chosen: Tensor, rejected: Tensor) -> LossOutput:
    return LossOutput(losses, chosen.detach(), rejected.detach())


def _check_positive(value: float, name: str, loss: str) -> None:
    if not value > 0:
        raise LossInputError(
            f"loss '{loss}': `{name}` must be > 0 (got {value!r}); pass a "
            f"positive value such as 0.1"
        )


def _check_epsilon(value: float, upper: float, loss: str) -> None:
    if not 0.0 <= value < upper:
        raise LossInputError(
            f"loss '{loss}': `epsilon` must be in [0, {upper}) (got {value!r}); "
            f"it is the assumed probability that a label is flipped"
        )


# -- the losses ------------------------------------------------------------


def dpo_loss(logps: PreferenceLogps, *, beta: float = 0.1) -> LossOutput:
    """Direct preference optimization (sigmoid loss) [DPO].

    .. math:: \\ell = -\\log\\sigma(\\beta h)

    Parameters
    ----------
    logps : PreferenceLogps
        Needs the policy and reference log-probabilities.
    beta : float, default=0.1
        Strength of the KL regularisation towards the reference.
    """
    _check_positive(beta, "beta", "dpo")
    chosen, rejected = log_ratios(logps, "dpo")
    # [DPO] eq. 7
    losses = -logsigmoid(beta * (chosen - rejected))
    return _rewarded(losses, beta * chosen, beta * rejected)


def ipo_loss(logps: PreferenceLogps, *, beta: float = 0.1) -> LossOutput:
    """Identity preference optimization [IPO].

    .. math:: \\ell = \\left(h - \\frac{1}{2\\beta}\\right)^2

    ``beta`` is the paper's :math:`\\tau`. The log-ratios are the summed
    sequence log-probabilities, as in the paper's eq. 17 (TRL divides them
    by the number of tokens first). So policy = reference gives
    :math:`1/(4\\beta^2)`.
    """
    _check_positive(beta, "beta", "ipo")
    chosen, rejected = log_ratios(logps, "ipo")
    # [IPO] eq. 17, sampled IPO loss
    losses = (chosen - rejected - 1.0 / (2.0 * beta)) ** 2
    return _rewarded(losses, beta * chosen, beta * rejected)


def cdpo_loss(
    logps: PreferenceLogps, *, beta: float = 0.1, epsilon: float = 0.1
) -> LossOutput:
    """Conservative DPO: DPO with label smoothing [cDPO].

    .. math:: \\ell = -(1-\\epsilon)\\log\\sigma(\\beta h)
              - \\epsilon\\log\\sigma(-\\beta h)

    ``epsilon`` is the assumed probability that a label is flipped.
    """
    _check_positive(beta, "beta", "cdpo")
    _check_epsilon(epsilon, 1.0, "cdpo")
    chosen, rejected = log_ratios(logps, "cdpo")
    z = beta * (chosen - rejected)
    losses = -(1 - epsilon) * logsigmoid(z) - epsilon * logsigmoid(-z)
    return _rewarded(losses, beta * chosen, beta * rejected)


def rdpo_loss(
    logps: PreferenceLogps, *, beta: float = 0.1, epsilon: float = 0.1
) -> LossOutput:
    """Provably robust DPO: an unbiased loss under label flips [rDPO].

    .. math:: \\ell = \\frac{-(1-\\epsilon)\\log\\sigma(\\beta h)
              + \\epsilon\\log\\sigma(-\\beta h)}{1 - 2\\epsilon}

    ``epsilon`` (in [0, 0.5)) is the known flip rate.
    """
    _check_positive(beta, "beta", "rdpo")
    _check_epsilon(epsilon, 0.5, "rdpo")
    chosen, rejected = log_ratios(logps, "rdpo")
    z = beta * (chosen - rejected)
    # [rDPO] eq. 7
    losses = (-(1 - epsilon) * logsigmoid(z) + epsilon * logsigmoid(-z)) / (
        1 - 2 * epsilon
    )
    return _rewarded(losses, beta * chosen, beta * rejected)


def hinge_loss(logps: PreferenceLogps, *, beta: float = 0.1) -> LossOutput:
    """Hinge (SLiC) calibration loss on the log-ratio margin [SLiC].

    .. math:: \\ell = \\max(0, 1 - \\beta h)

    SLiC-HF's rank calibration :math:`\\max(0, \\delta - \\log\\pi(y_w) +
    \\log\\pi(y_l))` with margin :math:`\\delta = 1/\\beta`, scaled by
    :math:`\\beta` and measured against the reference model.
    """
    _check_positive(beta, "beta", "hinge")
    chosen, rejected = log_ratios(logps, "hinge")
    losses = torch.relu(1 - beta * (chosen - rejected))
    return _rewarded(losses, beta * chosen, beta * rejected)


def simpo_loss(
    logps: PreferenceLogps, *, beta: float = 2.0, gamma: float = 0.5
) -> LossOutput:
    """SimPO: reference-free, length-normalised margin loss [SimPO].

    .. math:: \\ell = -\\log\\sigma\\left(\\frac{\\beta}{|y_w|}\\log\\pi(y_w|x)
              - \\frac{\\beta}{|y_l|}\\log\\pi(y_l|x) - \\gamma\\right)

    The implied rewards are :math:`\\beta \\log\\pi(y|x)/|y|`.
    """
    _check_positive(beta, "beta", "simpo")
    n_c = _need(logps, "chosen_length", "simpo").clamp_min(1)
    n_r = _need(logps, "rejected_length", "simpo").clamp_min(1)
    chosen = beta * logps.policy_chosen / n_c
    rejected = beta * logps.policy_rejected / n_r
    # [SimPO] eq. 6
    losses = -logsigmoid(chosen - rejected - gamma)
    return _rewarded(losses, chosen, rejected)


def dove_loss(logps: PreferenceLogps, *, beta: float = 0.1) -> LossOutput:
    """DOVE / joint preference optimization over (instruction, response) pairs [DOVE].

    .. math:: \\ell = -\\log\\sigma\\left(
              \\beta\\log\\frac{\\pi_\\theta(y_w|x_w)}{\\pi_{ref}(y_w|x_w)}
              - \\beta\\log\\frac{\\pi_\\theta(y_l|x_l)}{\\pi_{ref}(y_l|x_l)}\\right)

    The chosen and rejected log-probabilities may be conditioned on
    *different* instructions :math:`x_w \\ne x_l`: the joint preference
    compares whole (instruction, response) pairs. The conditional-likelihood
    ratio of the joint probability is used, since :math:`\\pi(x)` is shared by
    policy and reference. With :math:`x_w = x_l` it is DPO.
    """
    _check_positive(beta, "beta", "dove")
    chosen, rejected = log_ratios(logps, "dove")
    losses = -logsigmoid(beta * chosen - beta * rejected)
    return _rewarded(losses, beta * chosen, beta * rejected)


def rationale_loss(
    logps: PreferenceLogps, *, beta: float = 0.1, gamma: float = 1.0
) -> LossOutput:
    """Rationale-enriched DPO: preference term plus rationale likelihood [RDPO].

    .. math:: \\ell = -\\log\\sigma(\\beta h)
              - \\gamma\\log\\pi_\\theta(r \\mid x, y_w \\succ y_l)

    ``logps.rationale`` holds :math:`\\log\\pi_\\theta(r|x, y_w \\succ y_l)`
    and ``gamma`` weighs it.
    """
    _check_positive(beta, "beta", "rationale")
    rationale = _need(logps, "rationale", "rationale")
    chosen, rejected = log_ratios(logps, "rationale")
    losses = -logsigmoid(beta * (chosen - rejected)) - gamma * rationale
    return _rewarded(losses, beta * chosen, beta * rejected)


def spo_loss(
    logps: PreferenceLogps, *, beta: float = 0.1, lambda_: float = 0.1
) -> LossOutput:
    """Self-supervised preference optimization: DPO plus a degree loss [SPO].

    .. math:: \\ell = -\\log\\sigma(\\beta h)
              - \\lambda \\log \\operatorname{softmax}(s)_{d}

    where :math:`s` are the model's scores of the preference-degree classes
    (``degree_logits``) and :math:`d` the self-supervised degree label
    (``degree``; in the paper, how much of the key content was removed from
    a response). The alignment term may be any pairwise loss; DPO here.
    """
    _check_positive(beta, "beta", "spo")
    scores = _need(logps, "degree_logits", "spo")
    degree = _need(logps, "degree", "spo")
    chosen, rejected = log_ratios(logps, "spo")
    degree_nll = cross_entropy(scores, degree.long(), reduction="none")
    losses = -logsigmoid(beta * (chosen - rejected)) + lambda_ * degree_nll
    return _rewarded(losses, beta * chosen, beta * rejected)


def smpo_loss(
    logps: PreferenceLogps, *, beta: float = 0.1, gamma: float = 1.0
) -> LossOutput:
    """Smoothed preference optimization: soft labels scale the margin [SmPO].

    .. math:: \\ell = -\\log\\sigma\\big((2\\alpha - \\gamma)\\,\\beta h\\big)

    :math:`\\alpha` = ``logps.label`` is the smoothed probability that the
    chosen response wins (from reward-model scores, see
    :func:`soft_labels`); :math:`\\gamma` is the sensitivity (1 in the paper's
    default). With :math:`\\alpha = 1, \\gamma = 1` it is DPO; with
    :math:`\\alpha = 1/2` the pair exerts no gradient.
    """
    _check_positive(beta, "beta", "smpo")
    alpha = _need(logps, "label", "smpo")
    chosen, rejected = log_ratios(logps, "smpo")
    # [SmPO] eq. 9
    losses = -logsigmoid((2 * alpha - gamma) * beta * (chosen - rejected))
    return _rewarded(losses, beta * chosen, beta * rejected)


def plackett_luce_loss(policy: Tensor, reference: Tensor, beta: float) -> Tensor:
    """Listwise DPO under Plackett-Luce for k responses ranked best first [DPO].

    .. math:: \\ell = -\\sum_{j=1}^{k-1} \\log
              \\frac{\\exp(\\beta u_j)}{\\sum_{l=j}^{k}\\exp(\\beta u_l)},
              \\qquad u_j = \\log\\frac{\\pi_\\theta(y_j|x)}{\\pi_{ref}(y_j|x)}

    Parameters
    ----------
    policy, reference : Tensor of shape (n_lists, k)
        Log-probabilities of the ranked responses, best first.
    beta : float
        KL strength.

    Returns
    -------
    Tensor of shape (n_lists,)
    """
    u = beta * (policy - reference)
    # log of the denominator for each position j: logsumexp over l >= j
    tail = torch.logcumsumexp(u.flip(-1), dim=-1).flip(-1)
    # [DPO] appendix A.3, eq. 18; the last term is log(1) = 0
    return -(u - tail)[..., :-1].sum(-1)


def listwise_loss(logps: PreferenceLogps, *, beta: float = 0.1) -> LossOutput:
    """Listwise DPO (Plackett-Luce) [DPO]; with k = 2 it is DPO.

    Uses ``policy_ranked`` / ``reference_ranked`` when given, else the pair
    (chosen, rejected) as a list of two. The rewards reported are those of
    the best and of the worst response.
    """
    _check_positive(beta, "beta", "listwise")
    if logps.policy_ranked is not None:
        policy = logps.policy_ranked
        reference = _need(logps, "reference_ranked", "listwise")
        if policy.ndim != 2 or policy.shape != reference.shape or policy.shape[1] < 2:
            raise LossInputError(
                "loss 'listwise': `policy_ranked` and `reference_ranked` must "
                "have the same shape (n_lists, k) with k >= 2 (got "
                f"{tuple(policy.shape)} and {tuple(reference.shape)})"
            )
    else:
        ref_c = _need(logps, "reference_chosen", "listwise")
        ref_r = _need(logps, "reference_rejected", "listwise")
        policy = torch.stack([logps.policy_chosen, logps.policy_rejected], -1)
        reference = torch.stack([ref_c, ref_r], -1)
    ratios = beta * (policy - reference)
    losses = plackett_luce_loss(policy, reference, beta)
    return _rewarded(losses, ratios[:, 0], ratios[:, -1])


#: The loss registry: name -> pure function ``fn(logps, **hyper_parameters)``.
LOSSES: dict[LossName, LossFn] = {
    "dpo": dpo_loss,
    "ipo": ipo_loss,
    "cdpo": cdpo_loss,
    "rdpo": rdpo_loss,
    "hinge": hinge_loss,
    "simpo": simpo_loss,
    "dove": dove_loss,
    "rationale": rationale_loss,
    "spo": spo_loss,
    "smpo": smpo_loss,
    "listwise": listwise_loss,
}

_REFERENCE = ("reference_chosen", "reference_rejected")
#: Fields of PreferenceLogps that each loss needs beyond the policy log-probs.
NEEDS: dict[LossName, tuple[str, ...]] = {
    **{name: _REFERENCE for name in LOSS_NAMES},
    "simpo": ("chosen_length", "rejected_length"),
    "rationale": (*_REFERENCE, "rationale"),
    "spo": (*_REFERENCE, "degree_logits", "degree"),
    "smpo": (*_REFERENCE, "label"),
}


def hyper_parameters(name: LossName) -> dict[str, Any]:
    """The hyper-parameters of loss ``name`` and their defaults."""
    fn = get_loss(name)
    return {
        p.name: p.default
        for p in inspect.signature(fn).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def get_loss(name: str) -> LossFn:
    """The registered loss ``name``; an unknown name lists the valid ones."""
    if name not in LOSSES:
        raise LossInputError(
            f"unknown loss {name!r}; expected one of {', '.join(LOSS_NAMES)}"
        )
    return LOSSES[name]  # type: ignore[index]


def compute_loss(name: str, logps: PreferenceLogps, **params: float) -> LossOutput:
    """Call loss ``name`` after checking its hyper-parameter names and shapes.

    Parameters
    ----------
    name : str
        A key of :data:`LOSSES`.
    logps : PreferenceLogps
        The batch's log-probabilities.
    **params : float
        Hyper-parameters of that loss (see :func:`hyper_parameters`).

    Examples
    --------
    >>> import torch
    >>> z = torch.zeros(2)
    >>> out = compute_loss("dpo", PreferenceLogps(z, z, z, z), beta=0.1)
    >>> round(float(out.losses[0]), 4)
    0.6931
    """
    fn = get_loss(name)
    allowed = hyper_parameters(name)  # type: ignore[arg-type]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise LossInputError(
            f"loss {name!r} has no hyper-parameter {', '.join(unknown)}; "
            f"expected some of {', '.join(allowed) or '(none)'}"
        )
    _check_shapes(logps)
    return fn(logps, **params)


def _check_shapes(logps: PreferenceLogps) -> None:
    """Every per-pair field has the shape of ``policy_chosen``."""
    shape = logps.policy_chosen.shape
    if len(shape) != 1:
        raise LossInputError(
            f"`policy_chosen` must be 1-D, one value per pair (got shape "
            f"{tuple(shape)})"
        )
    per_pair = {f.name for f in fields(logps)} - {
        "degree_logits",
        "policy_ranked",
        "reference_ranked",
    }
    for field_name in sorted(per_pair):
        value = getattr(logps, field_name)
        if value is not None and value.shape != shape:
            raise LossInputError(
                f"`{field_name}` has shape {tuple(value.shape)}; expected "
                f"{tuple(shape)} like `policy_chosen`"
            )


def soft_labels(
    score_chosen: Tensor, score_rejected: Tensor, temperature: float = 1.0
) -> Tensor:
    """Smoothed labels from reward-model scores: a Bradley-Terry probability.

    .. math:: \\alpha = \\sigma\\big((s_w - s_l) / T\\big)

    Parameters
    ----------
    score_chosen, score_rejected : Tensor of shape (n_pairs,)
        Reward-model scores of the two responses.
    temperature : float, default=1.0
        Larger values smooth the labels more towards 1/2.
    """
    if not temperature > 0:
        raise LossInputError(
            f"`temperature` must be > 0 (got {temperature!r}); pass e.g. 1.0"
        )
    return torch.sigmoid((score_chosen - score_rejected) / temperature)
