"""Padding a batch of Tinker datums into tensors: the one rule both local clients train with."""

from __future__ import annotations

from typing import Any

import torch


def pad_batch(data: list[Any], device: torch.device, pad: int) -> tuple[Any, ...]:
    """Inputs, targets and weights padded on the right to the longest datum, and its mask.

    Padded positions take token `pad` and weigh 0 in the loss; the attention mask is 1 on real
    tokens, 0 on padding.

    Args:
        data: `tinker.types.Datum`s: `model_input` tokens, `target_tokens` and optional `weights`
            (default 1) of the same length.
        device: Where the tensors go.
        pad: The token id padded positions take.

    Returns:
        (inputs, targets, weights, mask, lengths): `lengths` lists the real lengths.

    Raises:
        ValueError: A datum whose inputs, targets and weights differ in length (naming it).
    """
    rows: list[tuple[list[int], list[int], list[float]]] = []
    for i, datum in enumerate(data):
        tokens = datum.model_input.to_ints()
        target = datum.loss_fn_inputs["target_tokens"].tolist()
        weights = (datum.loss_fn_inputs["weights"].tolist() if "weights" in datum.loss_fn_inputs
                   else [1.0] * len(target))
        if not len(tokens) == len(target) == len(weights):
            raise ValueError(
                f"datum {i}: {len(tokens)} inputs, {len(target)} targets, {len(weights)} weights")
        rows.append((tokens, target, weights))
    width = max(len(r[0]) for r in rows)

    def padded(column: int, value: float, dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor([r[column] + [value] * (width - len(r[column])) for r in rows],
                            dtype=dtype, device=device)

    lengths = [len(r[0]) for r in rows]
    mask = torch.tensor([[1] * n + [0] * (width - n) for n in lengths], device=device)
    return (padded(0, pad, torch.long), padded(1, pad, torch.long),
            padded(2, 0.0, torch.float32), mask, lengths)
