"""The dummy eval backend: synthetic, deterministic metrics for engine tests. Evaluates nothing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from motools import _hashing
from motools.evals._protocol import EvalOutput


class DummyEvalBackend:
    """Derives an 'accuracy' from the model id and task name; no model is called."""

    name = "dummy"

    def evaluate(
        self, model: dict[str, Any], eval_task: str, eval_kwargs: dict[str, Any], log_dir: Path
    ) -> EvalOutput:
        """Return synthetic metrics, clearly labelled as such."""
        seed = _hashing.digest("motools.dummy-eval.v1", {"model": model.get("model_id"),
                                                          "task": eval_task})
        n = 10
        accuracy = int(seed[:8], 16) % (n + 1) / n
        stderr = math.sqrt(accuracy * (1 - accuracy) / (n - 1))
        task = eval_task.rpartition(":")[2] or eval_task
        return EvalOutput(
            backend=self.name,
            metrics={task: {"accuracy": accuracy, "stderr": round(stderr, 6), "n": n}},
            info={"note": "dummy test backend: synthetic metrics, no model was evaluated"},
        )
