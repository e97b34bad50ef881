"""`HFTrainingClient`: the TrainingClient surface of the SFT loop, as a LoRA on a pretrained model.

The base model stays frozen; a `peft` LoRA of rank `lora_rank` on every linear layer (not the
output head) is what trains, with AdamW. Checkpoints and sampler weights hold the adapter only,
plus the name and identity of the base model it belongs to, never the base weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from tinker import types

from motools._atomic import atomic_path, write_atomic
from motools.training._protocol import Hyperparameters
from motools.training.local._batch import pad_batch
from motools.training.local._client import (
    Done,
    _check_name,
    _to_cpu,
    adamw_step,
    backward_weighted_nll,
)
from motools.training.local._hf_model import base_identity, load_model, select_device
from motools.training.local._model import save_torch_atomic

LORA_ALPHA = 32
BASE_FILE = "motools_base.json"
ADAPTER_FILE = "adapter_model.safetensors"
# Torch's random state: a model with dropout draws from it at every step, so a resumed run must
# continue its stream where the checkpoint left it to compute what the uninterrupted run does.
RNG_FILE = "rng.pt"


def lora_config(rank: int) -> Any:
    """The adapter every local LoRA uses: rank `rank` on all linear layers, no dropout."""
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=LORA_ALPHA, lora_dropout=0.0,
                      target_modules="all-linear", task_type="CAUSAL_LM")


class HFTrainingClient:
    """Trains a LoRA adapter on a Hugging Face causal LM in this process, with Tinker's types.

    Gradients from `forward_backward` calls add up until the next `optim_step`, as in Tinker.
    fp32 on a CPU, bf16 base weights on a GPU (the adapter stays fp32).

    Args:
        base_model: The base model name (registered, a folder or a hub id).
        workdir: Where `save_state` and `save_weights_for_sampler` write.
        hp: `lora_rank` shapes the adapter, `seed` its initial weights.
        resume_from: A folder `save_state` returned: restores adapter, optimizer and random
            state.
    """

    def __init__(self, base_model: str, workdir: str | Path, hp: Hyperparameters,
                 resume_from: str | None = None) -> None:
        from peft import get_peft_model, set_peft_model_state_dict

        self.base_model = base_model
        self.identity = base_identity(base_model)
        self.workdir = Path(workdir)
        self.device = select_device()
        torch.manual_seed(hp.seed)  # the adapter's initial weights
        model = load_model(base_model, self.device)
        model.config.use_cache = False
        self.model = get_peft_model(model, lora_config(hp.lora_rank))
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params)
        if resume_from is not None:
            self._check_base(Path(resume_from))
            from safetensors.torch import load_file

            state = load_file(str(Path(resume_from) / ADAPTER_FILE), device=str(self.device))
            set_peft_model_state_dict(self.model, state)
            self.optimizer.load_state_dict(
                torch.load(Path(resume_from) / "optimizer.pt", map_location="cpu",
                           weights_only=True))
            if (Path(resume_from) / RNG_FILE).is_file():
                _set_rng_state(torch.load(Path(resume_from) / RNG_FILE, weights_only=True))
        self.model.train()

    def _check_base(self, folder: Path) -> None:
        saved = json.loads((folder / BASE_FILE).read_text())
        if saved["identity"] != self.identity:
            raise ValueError(f"checkpoint {folder} belongs to base model {saved['identity']}, "
                             f"not {self.identity}")

    def forward_backward(
        self, data: list[types.Datum], loss_fn: str = "cross_entropy"
    ) -> Done[types.ForwardBackwardOutput]:
        """Accumulate gradients of the weighted mean NLL of a batch (padding has weight 0).

        Returns:
            A completed future of per-datum `logprobs` of the targets.
        """
        if loss_fn != "cross_entropy":
            raise ValueError(f"the local engine supports loss_fn='cross_entropy' only, got "
                             f"{loss_fn!r}")
        if not data:
            raise ValueError("forward_backward needs at least one Datum")
        # Padding is token 0: padded positions are masked out and weigh 0 in the loss, so their id
        # never matters (a model's pad or end-of-text id may be a list, or missing).
        x, y, w, mask, lengths = pad_batch(data, self.device, 0)
        logits = self.model(input_ids=x, attention_mask=mask).logits.float()
        logprobs = -torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none"
        ).view(y.shape)
        return backward_weighted_nll(logprobs, w, lengths)

    def optim_step(self, adam_params: types.AdamParams) -> Done[types.OptimStepResponse]:
        """One AdamW step of the adapter with these settings, then clear the gradients."""
        return adamw_step(self.optimizer, self.params, adam_params)

    def _save_adapter(self, folder: Path) -> None:
        from peft import get_peft_model_state_dict
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous()
                 for k, v in get_peft_model_state_dict(self.model).items()}
        with atomic_path(folder / ADAPTER_FILE) as tmp:
            save_file(state, str(tmp))
        config = self.model.peft_config["default"].to_dict()
        # The base's name, not the folder it was loaded from: the same on every machine.
        config["base_model_name_or_path"] = self.base_model
        config = {k: sorted(v) if isinstance(v, set) else v for k, v in config.items()}
        _write_json(folder / "adapter_config.json", config)
        _write_json(folder / BASE_FILE, {"base_model": self.base_model,
                                         "identity": self.identity})

    def save_state(self, name: str) -> Done[types.SaveWeightsResponse]:
        """Save adapter, optimizer and random state to the folder `workdir/checkpoints/<name>/`."""
        folder = self.workdir / "checkpoints" / _check_name(name)
        self._save_adapter(folder)
        optimizer = _to_cpu(self.optimizer.state_dict())
        save_torch_atomic(optimizer, folder / "optimizer.pt")
        save_torch_atomic(_rng_state(), folder / RNG_FILE)
        return Done(types.SaveWeightsResponse(path=str(folder.resolve())))

    def save_weights_for_sampler(self, name: str) -> Done[types.SaveWeightsForSamplerResponse]:
        """Save the adapter (peft format) to `workdir/sampler/<name>/`, for the sampler."""
        folder = self.workdir / "sampler" / _check_name(name)
        self._save_adapter(folder)
        return Done(types.SaveWeightsForSamplerResponse(path=str(folder.resolve())))


def _rng_state() -> dict[str, Any]:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.stack(torch.cuda.get_rng_state_all())
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    # A trainer killed mid-write must not leave a truncated file under the final name.
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True, default=str))
