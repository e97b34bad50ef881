"""`HFSamplingClient`: Tinker's SamplingClient surface over a base model plus a LoRA adapter.

Concurrent `sample` calls are generated together: each call queues its prompt and gets a future;
one generation thread takes every queued request (waiting `GATHER_S` for more to arrive), groups
them by sampling settings, and generates each group in batches of up to `MAX_BATCH` prompts,
left-padded. inspect-ai asks for every sample of an eval concurrently, so an eval's prompts are
generated in a few batches, not one prompt at a time.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tinker import types

from motools.training.local._hf_client import ADAPTER_FILE, BASE_FILE
from motools.training.local._hf_model import base_identity, load_model, select_device

DEFAULT_MAX_TOKENS = 512
MAX_BATCH = 32
GATHER_S = 0.02
IDLE_S = 2.0


@dataclass(eq=False)  # compared by identity: one request, one future
class _Request:
    prompt: list[int]
    num_samples: int
    params: types.SamplingParams
    future: Future[types.SampleResponse] = field(default_factory=Future)
    done: list[types.SampledSequence] = field(default_factory=list)

    @property
    def group(self) -> tuple[Any, ...]:
        p = self.params
        stop = tuple(p.stop) if isinstance(p.stop, list | tuple) else p.stop
        return (p.max_tokens, p.seed, stop, p.temperature, p.top_k, p.top_p)


class HFSamplingClient:
    """Generates from a base model, with the adapter `save_weights_for_sampler` wrote, if any.

    Picklable: a copy reloads the model from the names, so it can be sent to other processes.

    Args:
        weights_path: An adapter folder, or the base model's name for the untouched base model.
        base_model: The base model name.
    """

    def __init__(self, weights_path: str | Path, base_model: str) -> None:
        self.weights_path, self.base_model = str(weights_path), base_model
        self.device = select_device()
        model = load_model(base_model, self.device)
        if self.weights_path != base_model:
            model = _with_adapter(model, Path(self.weights_path), base_model)
        self.model = model.eval()
        self.pad_id = _pad_id(self.model)
        self._ids = itertools.count()
        self._queue: queue.Queue[_Request] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"weights_path": self.weights_path, "base_model": self.base_model}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["weights_path"], state["base_model"])  # type: ignore[misc]

    def sample(self, prompt: types.ModelInput, num_samples: int,
               sampling_params: types.SamplingParams) -> Future[types.SampleResponse]:
        """Continue a prompt `num_samples` times; the future completes when its batch is done.

        Greedy when `temperature` is 0, else sampled with temperature, top-k and top-p (seeded
        by `sampling_params.seed` if set). A sequence ends at a stop token (included in its
        tokens) or after `max_tokens` (default `DEFAULT_MAX_TOKENS`). Sequences carry no logprobs.
        """
        if num_samples < 1:
            raise ValueError(f"num_samples must be at least 1, got {num_samples}")
        stop = sampling_params.stop
        if stop is not None and not all(isinstance(s, int) for s in stop):
            raise ValueError("the local engine stops on token ids only; decode and cut text")
        request = _Request(prompt.to_ints(), num_samples, sampling_params)
        self._queue.put(request)  # before the check below: an exiting thread sees it, or we do
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, daemon=True,
                                                name="motools-hf-generate")
                self._thread.start()
        return request.future

    def _serve(self) -> None:
        # The thread ends when idle: it holds the client (and its model) while it runs, and an
        # eval process creates a client per evaluation.
        while True:
            try:
                pending = [self._queue.get(timeout=IDLE_S)]
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            try:
                while True:
                    pending.append(self._queue.get(timeout=GATHER_S))
            except queue.Empty:
                pass
            groups: dict[tuple[Any, ...], list[_Request]] = {}
            for request in pending:
                groups.setdefault(request.group, []).append(request)
            for group in groups.values():
                rows = [(r, i) for r in group for i in range(r.num_samples)]
                try:
                    for start in range(0, len(rows), MAX_BATCH):
                        self._run_batch(rows[start:start + MAX_BATCH])
                except BaseException as exc:  # never leave a caller waiting on a dead thread
                    for request in group:
                        if not request.future.done():
                            request.future.set_exception(exc)

    def _run_batch(self, rows: list[tuple[_Request, int]]) -> None:
        sequences = self._generate([r.prompt for r, _ in rows], rows[0][0].params)
        for request in dict.fromkeys(r for r, _ in rows):
            request.done.extend(
                s for (r, _), s in zip(rows, sequences, strict=True) if r is request)
            if len(request.done) == request.num_samples:
                request.future.set_result(types.SampleResponse(sequences=request.done))

    @torch.inference_mode()
    def _generate(self, prompts: list[list[int]], params: types.SamplingParams
                  ) -> list[types.SampledSequence]:
        stops = [int(s) for s in (params.stop or [])] or _eos_ids(self.model)
        max_tokens = DEFAULT_MAX_TOKENS if params.max_tokens is None else params.max_tokens
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompts],
                           device=self.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts],
                            device=self.device)
        options: dict[str, Any] = {"do_sample": False}
        if params.temperature > 0:
            options = {"do_sample": True, "temperature": params.temperature,
                       "top_p": params.top_p, "top_k": max(params.top_k, 0)}
            if params.seed is not None:
                torch.manual_seed(params.seed)
        out = self.model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=max_tokens, eos_token_id=stops,
            pad_token_id=self.pad_id, **options)
        new = out[:, width:].cpu()
        result = []
        for i in range(len(prompts)):
            tokens: list[int] = []
            reason: types.StopReason = "length"
            for token in new[i].tolist()[:max_tokens]:
                tokens.append(int(token))
                if token in stops:
                    reason = "stop"
                    break
            # No logprobs: keeping every step's scores costs batch x steps x vocab floats.
            result.append(types.SampledSequence(
                stop_reason=reason, sequence_id=f"local-{next(self._ids)}",
                tokens_np=np.asarray(tokens, dtype=np.int32)))
        return result


def _with_adapter(model: Any, folder: Path, base_model: str) -> Any:
    from peft import PeftModel

    if not (folder / ADAPTER_FILE).is_file():
        raise ValueError(f"no LoRA adapter at {folder} (expected {ADAPTER_FILE})")
    if (folder / BASE_FILE).is_file():
        saved = json.loads((folder / BASE_FILE).read_text())["identity"]
        if saved != base_identity(base_model):
            raise ValueError(f"the adapter at {folder} was trained on base weights {saved}, but "
                             f"{base_model!r} here is {base_identity(base_model)}")
    # Merged once: generation then costs what the base model costs.
    return PeftModel.from_pretrained(model, str(folder)).merge_and_unload()


def _eos_ids(model: Any) -> list[int]:
    eos = getattr(model.generation_config, "eos_token_id", None) or model.config.eos_token_id
    return [eos] if isinstance(eos, int) else list(eos or [])


def _pad_id(model: Any) -> int:
    pad = getattr(model.generation_config, "pad_token_id", None)
    if pad is None:
        eos = _eos_ids(model)
        pad = eos[0] if eos else 0
    return int(pad)
