"""Training a head on pair features: seeded, early-stopped, logged per epoch.

:func:`fit_head` is the one loop every model in this package uses; it works on
feature arrays, so synthetic tests and the table-level API share it.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from torch import Tensor

from prefkit.errors import ConvergenceWarning, PrefkitError
from prefkit.reward.heads import HEAD_KINDS, Head, HeadKind, make_head
from prefkit.reward.losses import bt_loss, simcse_loss, smooth_targets

logger = logging.getLogger("prefkit.reward")

TieTraining = Literal["half", "drop"]


class RewardConfigError(PrefkitError, ValueError):
    """A reward-model setting is out of range."""


def _check(ok: bool, name: str, value: object, expected: str) -> None:
    if not ok:
        raise RewardConfigError(
            f"RewardConfig.{name} is {value!r}; expected {expected}"
        )


@dataclass(frozen=True)
class RewardConfig:
    """How a head is built and trained.

    Attributes
    ----------
    head : {"bt", "gpm"}
        ``bt``: scalar Bradley-Terry reward [BT52]_; ``gpm``: preference
        embeddings with a skew-symmetric form [GPM]_.
    hidden : int
        Hidden units of the head (0: linear in the features).
    dropout : float
        Dropout after the hidden layer (also makes the contrastive views).
    n_planes : int
        Planes of the GPM embedding (its width is ``2 * n_planes``).
    max_epochs : int
        Upper bound on passes over the training pairs.
    batch_size : int
        Pairs per optimiser step.
    lr : float
        AdamW learning rate.
    weight_decay : float
        AdamW weight decay.
    val_share : float
        Share of pairs held out for early stopping (0: none; stop on the
        training loss instead).
    patience : int
        Epochs without a better validation loss before stopping.
    tol : float
        Relative change of the training loss under which a run without a
        validation split counts as converged.
    label_smoothing : float
        :math:`\\varepsilon` of :func:`~prefkit.reward.losses.smooth_targets`.
    margin : float
        Constant margin of the BT loss (per-pair margins come from
        :mod:`prefkit.reward.strength`).
    contrastive : float
        Weight of the in-batch contrastive term (0: off) [RLHF2]_.
    tau : float
        Temperature of the contrastive term.
    ties : {"half", "drop"}
        Train on tie labels as ``y = 0.5`` or drop them.
    seed : int
        Seed of the split, the initialisation, the batches and dropout.
    """

    head: HeadKind = "bt"
    hidden: int = 64
    dropout: float = 0.3
    n_planes: int = 4
    max_epochs: int = 60
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 1e-2
    val_share: float = 0.15
    patience: int = 6
    tol: float = 1e-4
    label_smoothing: float = 0.0
    margin: float = 0.0
    contrastive: float = 0.0
    tau: float = 0.1
    ties: TieTraining = "half"
    seed: int = 0

    def __post_init__(self) -> None:
        _check(self.head in HEAD_KINDS, "head", self.head, "'bt' or 'gpm'")
        _check(self.hidden >= 0, "hidden", self.hidden, "an integer >= 0")
        _check(0 <= self.dropout < 1, "dropout", self.dropout, "a float in [0, 1)")
        _check(self.n_planes >= 1, "n_planes", self.n_planes, "an integer >= 1")
        _check(self.max_epochs >= 1, "max_epochs", self.max_epochs, "an integer >= 1")
        _check(self.batch_size >= 2, "batch_size", self.batch_size, "an integer >= 2")
        _check(self.lr > 0, "lr", self.lr, "a float > 0")
        _check(self.weight_decay >= 0, "weight_decay", self.weight_decay, ">= 0")
        _check(0 <= self.val_share < 1, "val_share", self.val_share, "in [0, 1)")
        _check(self.patience >= 1, "patience", self.patience, "an integer >= 1")
        _check(self.tol > 0, "tol", self.tol, "a float > 0")
        _check(
            0 <= self.label_smoothing < 0.5,
            "label_smoothing",
            self.label_smoothing,
            "a float in [0, 0.5)",
        )
        _check(self.margin >= 0, "margin", self.margin, "a float >= 0")
        _check(self.contrastive >= 0, "contrastive", self.contrastive, ">= 0")
        _check(self.tau > 0, "tau", self.tau, "a float > 0")
        _check(self.ties in ("half", "drop"), "ties", self.ties, "'half' or 'drop'")


@dataclass
class FitResult:
    """A trained head and how its training went.

    Attributes
    ----------
    head : torch.nn.Module
        The head, in eval mode, with the weights of the best epoch.
    history : DataFrame
        One row per epoch: ``epoch, train_loss, val_loss, val_accuracy,
        seconds``.
    converged_ : bool
        True when early stopping (or the training-loss tolerance) ended the
        run before ``max_epochs``.
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose weights were kept.
    """

    head: Head
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    converged_: bool = False
    n_iter_: int = 0
    best_epoch_: int = 0


def _as_tensor(values: NDArray[np.floating] | Tensor) -> Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float32))


def _batch_loss(
    head: Head,
    x_a: Tensor,
    x_b: Tensor,
    y: Tensor,
    margin: Tensor,
    weight: Tensor,
    config: RewardConfig,
) -> Tensor:
    """BT loss (smoothed targets, margins) plus the optional contrastive term."""
    delta = head.pair_score(x_a, x_b)
    target = smooth_targets(y, config.label_smoothing)
    loss = bt_loss(delta, target, margin, weight)
    if config.contrastive > 0:
        # winner-minus-loser representation, two dropout views; ties are skipped
        sign = torch.sign(y - 0.5).unsqueeze(-1)
        keep = sign.squeeze(-1) != 0
        if int(keep.sum()) >= 2:
            u1 = sign * (head.represent(x_a) - head.represent(x_b))
            u2 = sign * (head.represent(x_a) - head.represent(x_b))
            loss = loss + config.contrastive * simcse_loss(
                u1[keep], u2[keep], config.tau
            )
    return loss


@torch.no_grad()
def _evaluate(head: Head, x_a: Tensor, x_b: Tensor, y: Tensor) -> tuple:
    """Validation loss (plain BT) and accuracy on decided pairs."""
    head.eval()
    delta = head.pair_score(x_a, x_b)
    loss = float(bt_loss(delta, y))
    decided = y != 0.5
    correct = (delta[decided] > 0) == (y[decided] > 0.5)
    accuracy = float(correct.float().mean()) if bool(decided.any()) else float("nan")
    return loss, accuracy


def _split(n: int, share: float, rng: np.random.Generator) -> tuple:
    """Indices of training and validation pairs."""
    order = rng.permutation(n)
    n_val = round(share * n) if share > 0 else 0
    if share > 0 and (n_val < 1 or n - n_val < 2):
        raise PrefkitError(
            f"cannot hold out val_share={share} of {n} pairs for early stopping; "
            "pass more pairs or val_share=0"
        )
    return order[n_val:], order[:n_val]


def fit_head(
    x_a: NDArray[np.floating],
    x_b: NDArray[np.floating],
    y: NDArray[np.floating],
    config: RewardConfig | None = None,
    *,
    weight: NDArray[np.floating] | None = None,
    margin: NDArray[np.floating] | None = None,
    progress: bool = False,
    strict: bool = False,
) -> FitResult:
    r"""Train a head on pair features with the (margin, smoothed) BT loss.

    .. math::

        \min_\theta \frac{1}{\sum_i w_i} \sum_i w_i\,
        \ell_{BT}\big(s_\theta(x_{a,i}, x_{b,i}),\, \tilde y_i,\, m_i\big)
        + \lambda_c\, \ell_{SimCSE}

    Parameters
    ----------
    x_a, x_b : array of shape (n_pairs, n_features)
        Features of the two sides of each pair.
    y : array of shape (n_pairs,)
        Probability that ``a`` is preferred (1, 0, or 0.5 for a tie).
    config : RewardConfig or None, default=None
        Architecture and training settings (defaults if None).
    weight : array of shape (n_pairs,) or None, default=None
        Sample weights.
    margin : array of shape (n_pairs,) or None, default=None
        Per-pair margins, added to ``config.margin``.
    progress : bool, default=False
        Show a progress bar over epochs.
    strict : bool, default=False
        Raise instead of warning when the run does not converge.

    Returns
    -------
    FitResult
    """
    config = config or RewardConfig()
    n = len(y)
    if not (len(x_a) == len(x_b) == n) or x_a.shape != x_b.shape:
        raise PrefkitError(
            f"x_a, x_b and y disagree in shape (got {x_a.shape}, {x_b.shape}, "
            f"{np.shape(y)}); expected (n_pairs, n_features) twice and (n_pairs,)"
        )
    y = np.asarray(y, dtype=np.float64)
    keep = np.ones(n, dtype=bool) if config.ties == "half" else y != 0.5
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)

    # tensors of the kept pairs, and the early-stopping split
    xa, xb, yt = _as_tensor(x_a[keep]), _as_tensor(x_b[keep]), _as_tensor(y[keep])
    w = _as_tensor(np.ones(n) if weight is None else weight)[keep]
    m = _as_tensor(np.zeros(n) if margin is None else margin)[keep] + config.margin
    train, val = _split(len(yt), config.val_share, rng)

    head = make_head(
        config.head, xa.shape[1], config.hidden, config.dropout, config.n_planes
    )
    head.norm.fit(torch.cat([xa[train], xb[train]]))
    optimiser = torch.optim.AdamW(
        head.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    return _loop(
        head, optimiser, (xa, xb, yt, w, m), train, val, config, rng, progress, strict
    )


def _loop(
    head: Head,
    optimiser: torch.optim.Optimizer,
    data: tuple[Tensor, Tensor, Tensor, Tensor, Tensor],
    train: NDArray[np.intp],
    val: NDArray[np.intp],
    config: RewardConfig,
    rng: np.random.Generator,
    progress: bool,
    strict: bool,
) -> FitResult:
    """The epoch loop of :func:`fit_head`."""
    from tqdm.auto import tqdm

    xa, xb, yt, w, m = data
    best = (float("inf"), 0, {k: v.clone() for k, v in head.state_dict().items()})
    rows: list[dict[str, float]] = []
    converged, stale, previous = False, 0, float("inf")
    bar = tqdm(range(1, config.max_epochs + 1), disable=not progress, desc="reward")
    for epoch in bar:
        start = time.perf_counter()
        head.train()
        order = train[rng.permutation(len(train))]
        total = 0.0
        for lo in range(0, len(order), config.batch_size):
            idx = torch.as_tensor(order[lo : lo + config.batch_size])
            loss = _batch_loss(head, xa[idx], xb[idx], yt[idx], m[idx], w[idx], config)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        train_loss = total / len(order)
        if len(val):
            val_loss, val_acc = _evaluate(head, xa[val], xb[val], yt[val])
        else:
            val_loss, val_acc = float("nan"), float("nan")
        rows.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
                "seconds": time.perf_counter() - start,
            }
        )
        logger.info(
            "epoch %d: train_loss=%.4f val_loss=%.4f val_accuracy=%.3f",
            epoch,
            train_loss,
            val_loss,
            val_acc,
        )
        bar.set_postfix(train=f"{train_loss:.3f}", val=f"{val_loss:.3f}")

        # early stopping on the validation loss, else on the training loss
        score = val_loss if len(val) else train_loss
        if score < best[0] - 1e-9:
            best = (score, epoch, {k: v.clone() for k, v in head.state_dict().items()})
            stale = 0
        else:
            stale += 1
        if len(val) and stale >= config.patience:
            converged = True
            break
        change = abs(previous - train_loss)
        if not len(val) and np.isfinite(previous) and change <= config.tol * previous:
            converged = True
            break
        previous = train_loss
    bar.close()

    head.load_state_dict(best[2])
    head.eval()
    if not converged:
        message = (
            f"reward head training stopped at max_epochs={config.max_epochs} "
            "before early stopping; raise max_epochs or lr"
        )
        if strict:
            raise PrefkitError(message)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return FitResult(head, pd.DataFrame(rows), converged, len(rows), best[1])
