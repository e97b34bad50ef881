"""What a point's numbers are about: its model and backends, read from the atoms it produced.

Read from atoms, not from the config, so any workflow that produces `model` (or `training_job`)
and `eval` atoms gets the columns, and a cached point says exactly what its results came from.
"""

from __future__ import annotations

from typing import Any

from motools.atom import atom_type_of
from motools.atom._atom import Atom
from motools.engine._result import WorkflowResult
from motools.registry import is_synthetic
from motools.training._curves import TRAIN_LOSS

# A model atom says it best; a training job (the point failed while training) says as much.
_MADE_BY = ("model", "training_job")


def point_context(result: WorkflowResult, eval_backend: str | None) -> dict[str, Any]:
    """`model`, `train_backend`, `eval_backend`, `synthetic` and `train_loss` of a point's run.

    Args:
        result: The point's workflow result.
        eval_backend: The backend named by the point's eval results (already read by the caller).

    Returns:
        The five values; `model` and `train_backend` stay None when no atom of the point names
        them (a point that failed before training); `train_loss` (the final training loss, see
        `motools.training._curves`) stays None when its model atom records none (`dummy`).
        One atom record is read per point.
    """
    made = {atom_type_of(atom_id): atom_id for state in result.step_states
            for atom_id in state.output_atoms.values()}
    model = train_backend = train_loss = None
    for kind in _MADE_BY:
        if kind in made:
            meta = Atom.load(made[kind], store=result.store).metadata
            model, train_backend = meta.get("base_model"), meta.get("backend")
            info = meta.get("info")
            if kind == "model" and isinstance(info, dict):  # the real engines record it
                train_loss = info.get(TRAIN_LOSS)
            break
    synthetic = (is_synthetic("training_backend", train_backend)
                 or is_synthetic("eval_backend", eval_backend))
    return {"model": model, "train_backend": train_backend, "eval_backend": eval_backend,
            "synthetic": synthetic, "train_loss": train_loss}
