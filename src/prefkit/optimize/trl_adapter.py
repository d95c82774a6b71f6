"""Any prefkit registry loss inside TRL's ``DPOTrainer`` (TRL 1.16).

TRL chooses its loss inside ``DPOTrainer._compute_loss``; the subclass here
replaces that one method: it takes the per-sequence log-probabilities exactly
as TRL computes them (same forward, same fused output head, precomputed or
live reference), hands them to :func:`prefkit.optimize.losses.compute_loss`
and logs TRL's reward metrics. Everything else (Accelerate, multi-GPU,
DeepSpeed, PEFT, logging, checkpoints) stays TRL's.

TRL's batches hold two completions per prompt, so ``listwise`` runs here
as its k = 2 case (which is DPO); ranked lists of k > 2 responses train
with :class:`~prefkit.optimize.trainer.PreferenceTrainer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from trl import DPOTrainer

from prefkit.optimize.losses import PreferenceLogps, compute_loss, get_loss
from prefkit.optimize.trainer import TrainerError

_NON_MODEL_KEYS = {"completion_mask", "ref_chosen_logps", "ref_rejected_logps"}

#: Losses needing inputs that TRL's DPO batches do not carry.
TRL_UNSUPPORTED: dict[str, str] = {
    "spo": (
        "needs degraded copies of the chosen response and a degree head over "
        "their hidden states"
    ),
    "rationale": "needs the log-probability of a rationale",
    "smpo": "needs soft labels",
}


class RegistryDPOTrainer(DPOTrainer):  # type: ignore[misc]
    """TRL's ``DPOTrainer`` with its loss replaced by a prefkit registry loss.

    Parameters
    ----------
    *args, **kwargs
        Passed to ``trl.DPOTrainer`` unchanged.
    prefkit_loss : str, default="dpo"
        A key of :data:`prefkit.optimize.losses.LOSSES`.
    loss_params : mapping of str to float or None, default=None
        Its hyper-parameters. When ``beta`` is absent, ``args.beta`` is used
        for losses that take one.

    Examples
    --------
    >>> trainer = RegistryDPOTrainer(  # doctest: +SKIP
    ...     model=model, args=DPOConfig(...), train_dataset=ds,
    ...     processing_class=tok, prefkit_loss="rdpo",
    ...     loss_params={"beta": 0.1, "epsilon": 0.2})
    """

    def __init__(
        self,
        *args: Any,
        prefkit_loss: str = "dpo",
        loss_params: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        get_loss(prefkit_loss)
        if prefkit_loss in TRL_UNSUPPORTED:
            raise TrainerError(
                f"loss {prefkit_loss!r} {TRL_UNSUPPORTED[prefkit_loss]}, which "
                "TRL's batches (chosen and rejected sequences only) do not "
                "carry; use prefkit's PreferenceTrainer or your own "
                "PreferenceLogps"
            )
        self.prefkit_loss = prefkit_loss
        self.loss_params = dict(loss_params or {})
        super().__init__(*args, **kwargs)
        if "beta" not in self.loss_params and prefkit_loss != "simpo":
            self.loss_params["beta"] = float(self.beta)

    def _compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool
    ) -> Any:
        mode = "train" if model.training else "eval"
        completion_mask = inputs["completion_mask"]
        model_kwargs = {k: v for k, v in inputs.items() if k not in _NON_MODEL_KEYS}
        model_kwargs["use_cache"] = False
        labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)

        # per-sequence log-probs as TRL computes them; batch is [chosen, rejected]
        outputs = model(**model_kwargs, labels=labels, fused_lm_head=True)
        shift_mask = completion_mask[..., 1:]
        per_token = outputs.log_probs[:, -shift_mask.size(1) :]
        chosen, rejected = per_token.sum(dim=1).chunk(2, dim=0)
        n_chosen, n_rejected = shift_mask.sum(dim=1).float().chunk(2, dim=0)
        if self.precompute_ref_logps:
            ref_chosen = inputs["ref_chosen_logps"]
            ref_rejected = inputs["ref_rejected_logps"]
        else:
            reference = self.ref_model if self.ref_model is not None else self.model
            ref_chosen, ref_rejected = self.compute_ref_log_probs(reference, inputs)

        logps = PreferenceLogps(
            policy_chosen=chosen,
            policy_rejected=rejected,
            reference_chosen=ref_chosen.to(chosen.dtype),
            reference_rejected=ref_rejected.to(chosen.dtype),
            chosen_length=n_chosen,
            rejected_length=n_rejected,
        )
        out = compute_loss(self.prefkit_loss, logps, **self.loss_params)
        loss = out.losses.mean()

        # TRL's reward metrics
        gather = self.accelerator.gather_for_metrics
        margins = out.chosen_rewards - out.rejected_rewards
        metrics = self._metrics[mode]
        metrics["rewards/chosen"].append(gather(out.chosen_rewards).mean().item())
        metrics["rewards/rejected"].append(gather(out.rejected_rewards).mean().item())
        metrics["rewards/margins"].append(gather(margins).mean().item())
        metrics["rewards/accuracies"].append(
            gather((margins > 0).to(torch.float32)).mean().item()
        )
        metrics["logps/chosen"].append(gather(chosen.detach()).mean().item())
        metrics["logps/rejected"].append(gather(rejected.detach()).mean().item())
        return (loss, outputs) if return_outputs else loss
