"""Embedding-head reward models over ``comparisons`` tables, saved as folders.

A :class:`RewardModel` is a frozen text encoder (all-MiniLM-L6-v2 by default),
a :class:`~prefkit.reward.features.FeatureSpec` and a trained head. It scores
responses (``ratings``), gives ``p_a = sigmoid(s(a, b))`` for pairs
(``comparisons``) and saves as a folder holding ``model.safetensors`` and
``config.json``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from prefkit.errors import PrefkitDataError, PrefkitError, got_expected
from prefkit.reward.features import Encoder, FeatureSpec, build_features, get_encoder
from prefkit.reward.heads import PreferenceHead, ScalarHead, make_head
from prefkit.reward.train import RewardConfig, fit_head

logger = logging.getLogger("prefkit.reward")

FORMAT_NAME = "prefkit-reward-embedding"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
#: Optional column of a comparisons / ratings table holding the criterion.
CONTEXT_COLUMN = "context"
TARGETS = {"a": 1.0, "b": 0.0, "tie": 0.5}


@dataclass(frozen=True)
class PairInputs:
    """Texts and targets of the pairs of a comparisons table."""

    prompts: list[str]
    response_a: list[str]
    response_b: list[str]
    contexts: list[str | None] | None
    y: NDArray[np.float64] | None
    weight: NDArray[np.float64] | None


def _text_column(df: pd.DataFrame, name: str, required: bool) -> list[str]:
    """A column as a list of str, checked once ('' where optional and absent)."""
    if name not in df.columns:
        if required:
            raise PrefkitDataError.single(
                "<table>",
                None,
                name,
                f"column missing (have {', '.join(map(str, df.columns))}); a reward "
                "model needs the texts of both responses",
            )
        return [""] * len(df)
    values = df[name].tolist()
    bad = [i for i, v in enumerate(values) if not isinstance(v, str)]
    if bad and required:
        raise PrefkitDataError.single(
            "<table>",
            bad[0] + 1,
            name,
            got_expected("not a text", values[bad[0]], "a string (fill missing texts)"),
        )
    return [v if isinstance(v, str) else "" for v in values]


def pair_inputs(comparisons: pd.DataFrame, need_winner: bool) -> PairInputs:
    """Check a comparisons table and extract what a reward model reads.

    Raises
    ------
    PrefkitDataError
        Naming the column and row of a missing response text or an unknown
        ``winner`` label.
    """
    if len(comparisons) == 0:
        raise PrefkitDataError.single("<table>", None, "-", "no pairs (empty table)")
    y = None
    if need_winner:
        if "winner" not in comparisons.columns:
            raise PrefkitDataError.single(
                "<table>",
                None,
                "winner",
                "column missing; training and evaluation need a verdict per pair",
            )
        labels = comparisons["winner"].astype(object).tolist()
        bad = [i for i, v in enumerate(labels) if v not in TARGETS]
        if bad:
            raise PrefkitDataError.single(
                "<table>",
                bad[0] + 1,
                "winner",
                got_expected("unknown verdict", labels[bad[0]], "one of a, b, tie"),
            )
        y = np.array([TARGETS[v] for v in labels])
    weight = None
    if "weight" in comparisons.columns:
        weight = comparisons["weight"].to_numpy(dtype=np.float64)
    contexts = None
    if CONTEXT_COLUMN in comparisons.columns:
        contexts = [c if isinstance(c, str) else None for c in comparisons["context"]]
    return PairInputs(
        prompts=_text_column(comparisons, "prompt", False),
        response_a=_text_column(comparisons, "response_a", True),
        response_b=_text_column(comparisons, "response_b", True),
        contexts=contexts,
        y=y,
        weight=weight,
    )


def pair_features(
    inputs: PairInputs, spec: FeatureSpec, encoder: Encoder
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Feature rows of the ``a`` and ``b`` sides of each pair."""
    n = len(inputs.response_a)
    both = build_features(
        inputs.prompts + inputs.prompts,
        inputs.response_a + inputs.response_b,
        None if inputs.contexts is None else inputs.contexts + inputs.contexts,
        spec,
        encoder,
    )
    return both[:n], both[n:]


@dataclass
class RewardModel:
    """A trained embedding-head reward (or preference) model.

    Attributes
    ----------
    head : ScalarHead or PreferenceHead
        The trained torch head.
    config : RewardConfig
        How it was trained.
    features : FeatureSpec
        How inputs become feature rows.
    history : DataFrame
        Per-epoch metrics of the training run.
    converged_ : bool
        Whether early stopping ended training.
    n_iter_ : int
        Epochs run.
    cache_dir : str or None
        Where the encoder caches vectors (not saved with the model).
    """

    head: ScalarHead | PreferenceHead
    config: RewardConfig
    features: FeatureSpec
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    converged_: bool = True
    n_iter_: int = 0
    cache_dir: str | None = None

    @property
    def encoder(self) -> Encoder:
        """The (shared, cached) text encoder."""
        return get_encoder(self.features.encoder, self.cache_dir)

    def _logits(self, x_a: NDArray[np.float32], x_b: NDArray[np.float32]) -> Any:
        with torch.no_grad():
            return self.head.pair_score(torch.as_tensor(x_a), torch.as_tensor(x_b))

    def pair_logits(self, comparisons: pd.DataFrame) -> NDArray[np.float64]:
        """``s(a, b)`` per row (``r_a - r_b`` for a BT head), shape ``(n,)``."""
        x_a, x_b = pair_features(
            pair_inputs(comparisons, need_winner=False), self.features, self.encoder
        )
        return self._logits(x_a, x_b).numpy().astype(np.float64)

    def predict_proba(self, comparisons: pd.DataFrame) -> NDArray[np.float64]:
        """``p_a = sigmoid(s(a, b))`` per row."""
        return 1.0 / (1.0 + np.exp(-self.pair_logits(comparisons)))

    def score(
        self,
        prompts: list[str],
        responses: list[str],
        contexts: list[str | None] | None = None,
    ) -> NDArray[np.float64]:
        """Scalar reward of each (prompt, response); BT heads only.

        Raises
        ------
        PrefkitError
            For a GPM head, which has no scalar reward: use
            :func:`~prefkit.reward.scoring.score_ratings` (mean preference
            against the other responses to the same prompt) or pairs.
        """
        if not isinstance(self.head, ScalarHead):
            raise PrefkitError(
                "a GPM preference model has no scalar reward per response; score "
                "pairs (predict_proba) or use score_ratings, which averages each "
                "response's preference over the others for its prompt"
            )
        x = build_features(prompts, responses, contexts, self.features, self.encoder)
        with torch.no_grad():
            return self.head.reward(torch.as_tensor(x)).numpy().astype(np.float64)

    def save(self, path: str | Path) -> Path:
        """Write the model as a folder: ``model.safetensors`` + ``config.json``."""
        from safetensors.torch import save_file

        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.contiguous() for k, v in self.head.state_dict().items()}
        save_file(state, str(folder / WEIGHTS_FILE))
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "n_features": int(self.head.norm.mean.shape[0]),
            "config": asdict(self.config),
            "features": asdict(self.features),
            "converged": self.converged_,
            "n_iter": self.n_iter_,
            "history": self.history.to_dict(orient="list"),
        }
        (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=2))
        return folder

    @classmethod
    def load(cls, path: str | Path, cache_dir: str | None = None) -> RewardModel:
        """Read a folder written by :meth:`save`.

        Raises
        ------
        PrefkitError
            If the folder or its files are missing or of another format.
        """
        from safetensors.torch import load_file

        folder = Path(path)
        meta = _read_meta(folder)
        config = RewardConfig(**meta["config"])
        spec = FeatureSpec(**meta["features"])
        head = make_head(
            config.head,
            meta["n_features"],
            config.hidden,
            config.dropout,
            config.n_planes,
        )
        head.load_state_dict(load_file(str(folder / WEIGHTS_FILE)))
        head.eval()
        return cls(
            head,
            config,
            spec,
            pd.DataFrame(meta.get("history", {})),
            bool(meta.get("converged", True)),
            int(meta.get("n_iter", 0)),
            cache_dir,
        )


def _read_meta(folder: Path) -> dict[str, Any]:
    """The config JSON of a saved model folder, checked."""
    config_path, weights = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    if not config_path.is_file() or not weights.is_file():
        raise PrefkitError(
            f"{folder} is not a saved reward model: it needs {CONFIG_FILE} and "
            f"{WEIGHTS_FILE} (write one with `prefkit reward train`)"
        )
    try:
        meta = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise PrefkitError(f"{config_path}: not valid JSON ({exc.msg})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        got = meta.get("format") if isinstance(meta, dict) else meta
        raise PrefkitError(
            f"{config_path}: " + got_expected("unknown model format", got, FORMAT_NAME)
        )
    return meta


def train_reward_model(
    comparisons: pd.DataFrame,
    config: RewardConfig | None = None,
    features: FeatureSpec | None = None,
    *,
    margin: NDArray[np.floating] | None = None,
    cache_dir: str | None = None,
    progress: bool = False,
    strict: bool = False,
) -> RewardModel:
    r"""Train an embedding-head reward model on a comparisons table.

    Each pair's two responses are embedded with the frozen encoder (cached),
    and the head is trained with the Bradley-Terry loss [BT52]_ (or the GPM
    loss [GPM]_ for ``config.head="gpm"``),

    .. math:: \ell = -\log \sigma\big(s(a, b) - m\big) \quad\text{for } a \succ b.

    Parameters
    ----------
    comparisons : DataFrame
        ``response_a``, ``response_b`` and ``winner`` (``a``/``b``/``tie``);
        optional ``prompt``, ``context`` (criterion) and ``weight``.
    config : RewardConfig or None, default=None
        Head and training settings.
    features : FeatureSpec or None, default=None
        Input features (MiniLM embeddings by default).
    margin : array of shape (n_pairs,) or None, default=None
        Per-pair margins (see :mod:`prefkit.reward.strength`).
    cache_dir : str or None, default=None
        Folder of the on-disk embedding cache.
    progress : bool, default=False
        Show progress bars.
    strict : bool, default=False
        Raise instead of warning when training does not converge.

    Returns
    -------
    RewardModel

    Examples
    --------
    >>> import pandas as pd
    >>> from prefkit.reward import FeatureSpec, RewardConfig, train_reward_model
    >>> pairs = pd.DataFrame({
    ...     "prompt": ["Say hi"] * 40,
    ...     "response_a": ["Hello, nice to meet you!"] * 40,
    ...     "response_b": ["go away"] * 40,
    ...     "winner": ["a", "b"] * 2 + ["a"] * 36,
    ... })
    >>> rm = train_reward_model(pairs, RewardConfig(hidden=0, val_share=0),
    ...                         FeatureSpec(encoder="hashing"))
    >>> bool(rm.predict_proba(pairs.head(1))[0] > 0.5)
    True
    """
    config = config or RewardConfig()
    spec = features or FeatureSpec()
    inputs = pair_inputs(comparisons, need_winner=True)
    encoder = get_encoder(spec.encoder, cache_dir)
    x_a, x_b = pair_features(inputs, spec, encoder)
    y = cast("NDArray[np.float64]", inputs.y)  # set when need_winner=True
    fit = fit_head(
        x_a,
        x_b,
        y,
        config,
        weight=inputs.weight,
        margin=margin,
        progress=progress,
        strict=strict,
    )
    return RewardModel(
        fit.head,
        config,
        spec,
        fit.history,
        fit.converged_,
        fit.n_iter_,
        cache_dir,
    )


def is_preference_model(model: RewardModel) -> bool:
    """True for a GPM head (no scalar reward)."""
    return isinstance(model.head, PreferenceHead)
