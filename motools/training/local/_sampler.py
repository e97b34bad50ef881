"""`LocalSamplingClient`: Tinker's SamplingClient surface over locally trained weights."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tinker import types

from motools.training.local._client import Done
from motools.training.local._model import load_weights, select_device
from motools.training.local._renderer import EOT

DEFAULT_MAX_TOKENS = 32


class LocalSamplingClient:
    """Generates from a `save_weights_for_sampler` folder in this process.

    Picklable: a copy reloads the weights from the path, so it can be sent to other processes.

    Args:
        weights_path: The folder `save_weights_for_sampler` returned.
    """

    def __init__(self, weights_path: str | Path) -> None:
        self.weights_path = str(weights_path)
        self.device = select_device()
        self.model = load_weights(Path(weights_path), self.device).eval()
        self._ids = itertools.count()

    def __getstate__(self) -> dict[str, Any]:
        return {"weights_path": self.weights_path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["weights_path"])  # type: ignore[misc]

    @torch.inference_mode()
    def sample(
        self, prompt: types.ModelInput, num_samples: int, sampling_params: types.SamplingParams
    ) -> Done[types.SampleResponse]:
        """Continue a prompt `num_samples` times.

        Greedy when `temperature` is 0; otherwise samples with temperature, top-k and top-p from a
        generator seeded with `sampling_params.seed` (random if unset). A sequence ends after a
        stop token or string (default: EOT, included in the tokens) or `max_tokens` (default 32).

        Returns:
            A completed future of a `SampleResponse` with one `SampledSequence` per sample.
        """
        if num_samples < 1:
            raise ValueError(f"num_samples must be at least 1, got {num_samples}")
        params = sampling_params
        stops = _stop_sequences(params.stop)
        max_tokens = DEFAULT_MAX_TOKENS if params.max_tokens is None else params.max_tokens
        seed = params.seed if params.seed is not None else random.randrange(2**63)
        generator = torch.Generator().manual_seed(seed)
        context = self.model.cfg.context
        x = torch.tensor([prompt.to_ints()] * num_samples, dtype=torch.long, device=self.device)
        out: list[list[int]] = [[] for _ in range(num_samples)]
        logps: list[list[float]] = [[] for _ in range(num_samples)]
        reasons: list[types.StopReason] = ["length"] * num_samples
        for _ in range(max_tokens):
            logits = self.model(x[:, -context:])[:, -1].float().cpu()
            logprobs = torch.log_softmax(logits, dim=-1)
            if params.temperature == 0:
                nxt = logits.argmax(dim=-1)
            else:
                probs = _filtered_probs(logits / params.temperature, params.top_k, params.top_p)
                nxt = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
            for i in range(num_samples):
                if reasons[i] == "stop":
                    continue
                token = int(nxt[i])
                out[i].append(token)
                logps[i].append(float(logprobs[i, token]))
                if any(out[i][-len(s) :] == s for s in stops):
                    reasons[i] = "stop"
            if all(r == "stop" for r in reasons):
                break
            x = torch.cat([x, nxt.unsqueeze(-1).to(self.device)], dim=1)
        return Done(
            types.SampleResponse(
                sequences=[
                    types.SampledSequence(
                        stop_reason=reasons[i],
                        sequence_id=f"local-{next(self._ids)}",
                        tokens_np=np.asarray(out[i], dtype=np.int32),
                        logprobs_np=np.asarray(logps[i], dtype=np.float32),
                    )
                    for i in range(num_samples)
                ]
            )
        )


def _stop_sequences(stop: str | Sequence[str] | Sequence[int] | None) -> list[list[int]]:
    # As in Tinker: None keeps the implicit end-of-turn stop, [] disables every stop.
    if stop is None:
        return [[EOT]]
    if isinstance(stop, str):
        stop = [stop]
    seqs = [[s] if isinstance(s, int) else list(s.encode("utf-8")) for s in stop]
    return [s for s in seqs if s]


def _filtered_probs(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    if 0 < top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        # Keep the smallest prefix whose mass reaches top_p (always at least the top token).
        drop = sorted_probs.cumsum(-1) - sorted_probs >= top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return probs
