"""The `inspect` eval backend: runs inspect-ai tasks against trained models (or any inspect model).

Models: a model atom whose backend has an eval provider in the registry (kind `eval_provider`:
`local` and `tinker` are served by the `motools` inspect provider, `motools.evals._provider`,
through that training engine; `openai` by inspect-ai's own `openai/` provider, `openai/ft:...`,
which reads `OPENAI_API_KEY` and `OPENAI_BASE_URL` itself) is served as that provider says; for any other backend the atom's
`model_id` is an inspect model string, passed through as is (`openai/gpt-4o-mini`).

`eval_kwargs` map as follows:
    - `task_args` (a dict): task arguments.
    - a field of inspect's `GenerateConfig` (`max_tokens`, `temperature`, `seed`, ...): the
      generation config of the model.
    - another parameter of `inspect_ai.eval()` (`limit`, `epochs`, `sample_id`, `fail_on_error`,
      `message_limit`, `log_format`, ...): passed to `eval()`. The backend sets `tasks`, `model`,
      `model_base_url`, `model_args`, `log_dir`, `display`, `max_tasks` and `trace` itself.
    - any other key: a task argument, checked against the task function's signature.

Concurrency: inspect-ai allows one `eval()` per process at a time (a second raises "Multiple
concurrent calls to eval_async are not allowed"). So concurrent `evaluate` calls of one process
share runs: the calls waiting when a run starts, or arriving within `GATHER_S`, that pass the
same `eval()` options run as ONE `eval()` of one task per call, each task bound to its own model,
and their samples are generated concurrently. A call arriving while a run is in progress joins
the next run. Each call still gets its own log file in its own `log_dir`, and one failing call
does not fail the others. Separate processes (Ray workers) run fully in parallel.
"""

from __future__ import annotations

import copy
import inspect as pyinspect
import json
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motools._errors import InspectEvalError, UserError
from motools.evals._protocol import EvalOutput
from motools.registry import import_string, is_file_ref, is_registered, resolve

GATHER_S = 0.05
"""How long a run waits for concurrent `evaluate` calls to join it before it starts."""

# eval() parameters the backend sets itself
RESERVED_EVAL_KWARGS = frozenset(
    {"tasks", "model", "model_base_url", "model_args", "log_dir", "display", "max_tasks", "trace"}
)
_REQUEST_KEY = "motools_eval_request"  # task metadata that tells the logs of a shared run apart


class InspectEvalBackend:
    """Evaluates models with inspect-ai; the log file stays in `log_dir` for `inspect view`.

    Args:
        get_engine: Returns the training engine of a name (`local`, `tinker`). By default the
            provider calls `motools.training.get_engine` itself. An engine this returns is
            handed to the provider under an `engine_key` model arg (`register_engine`) until the
            model is created: this is how tests inject a fake engine.
    """

    name = "inspect"

    def __init__(self, get_engine: Callable[[str], Any] | None = None) -> None:
        self._get_engine = get_engine

    def evaluate(
        self, model: dict[str, Any], eval_task: str, eval_kwargs: dict[str, Any], log_dir: Path
    ) -> EvalOutput:
        """Run the task against the model.

        Raises:
            UserError: The task, its arguments or the model cannot be used (one line).
            InspectEvalError: The evaluation ran but did not succeed (one line, with the log).
        """
        from inspect_ai import Task, task_with
        from inspect_ai.model import GenerateConfig, get_model

        task_fn = load_task(eval_task)
        task_args, generate_args, eval_options = split_eval_kwargs(task_fn, eval_kwargs, eval_task)
        inspect_model, model_args = self.model_spec(model)
        try:
            config = GenerateConfig(**generate_args)
        except ValueError as exc:  # pydantic's ValidationError names the key
            raise UserError(f"eval_kwargs for {eval_task!r}: {_one_line(exc)}") from None
        task = copy.copy(task_fn) if isinstance(task_fn, Task) else task_fn(**task_args)
        if not isinstance(task, Task):
            raise UserError(f"eval task {eval_task!r} returned a {type(task).__name__}, not a Task")
        # Engine-backed models are not memoized: inspect's cache would keep every engine alive.
        try:
            served = get_model(inspect_model, config=config, memoize=not model_args, **model_args)
        finally:
            if "engine_key" in model_args:  # the model holds its engine now
                from motools.evals._provider import unregister_engine

                unregister_engine(model_args["engine_key"])
        metadata = {**(task.metadata or {}), _REQUEST_KEY: uuid.uuid4().hex}
        request = _Request(task_with(task, model=served, metadata=metadata), eval_options,
                           Path(log_dir))
        started = time.perf_counter()
        try:
            log = _RUNNER.run(request)
        except Exception as exc:  # eval() itself raised (inspect reports most failures in the log)
            raise InspectEvalError(
                f"inspect eval of {eval_task!r} on {inspect_model} raised "
                f"{type(exc).__name__}: {_one_line(exc)}"
            ) from exc
        info = {"task_args": task_args, "generate_config": generate_args,
                "eval_options": eval_options, "seconds": round(time.perf_counter() - started, 3)}
        return self._output(log, Path(log_dir), eval_task, inspect_model, info)

    def model_spec(self, model: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The inspect model string and model args that serve a model atom's metadata."""
        backend = model.get("backend")
        if isinstance(backend, str) and is_registered("eval_provider", backend):
            inspect_model, args = resolve("eval_provider", backend)(model)
            args = dict(args)
            if self._get_engine is not None and inspect_model.startswith("motools/"):
                from motools.evals import _provider

                args["engine_key"] = _provider.register_engine(self._get_engine(backend))
            return str(inspect_model), args
        if backend == "dummy":
            raise UserError(
                f"model {model.get('model_id')!r} comes from the dummy training backend and has "
                "no weights to evaluate; evaluate it with the dummy eval backend"
            )
        model_id = str(model.get("model_id") or "")
        if "/" not in model_id:
            raise UserError(
                f"model {model_id!r} (backend {backend!r}) is not an inspect model string like "
                "'openai/gpt-4o-mini'; trained models need backend 'local' or 'tinker'"
            )
        return model_id, {}

    def _output(
        self, log: Any, log_dir: Path, eval_task: str, inspect_model: str, info: dict[str, Any]
    ) -> EvalOutput:
        from inspect_ai import __version__

        location = Path(log.location)
        if log.status != "success":
            message = _one_line(log.error.message) if log.error else f"status {log.status}"
            raise InspectEvalError(
                f"inspect eval of {eval_task!r} on {inspect_model} failed: {message} "
                f"(log: {location})"
            )
        try:
            log_file = str(location.relative_to(log_dir))
        except ValueError:
            log_file = str(location)
        return EvalOutput(
            backend=self.name,
            metrics={log.eval.task.rpartition("/")[2]: extract_metrics(log)},
            samples=extract_samples(log),
            info=_jsonable({
                "log_files": [log_file],
                "model": inspect_model,
                "model_args": log.eval.model_args,
                "eval_id": log.eval.eval_id,
                "inspect_ai": __version__,
                **info,
            }),
        )


def engine_served_model(model: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The eval provider of engine-trained models: `motools/<backend>` with the weights to serve.

    Registered (kind `eval_provider`) for the `local` and `tinker` backends.
    """
    from motools.evals import _provider

    args: dict[str, Any] = {
        "weights_path": weights_path(model),
        "base_model": model.get("base_model") or _missing(model, "base_model"),
    }
    # The model's own id after the engine (`motools/local/<base>:<suffix>/<job>`), so inspect's
    # log names the model, not just the engine.
    backend = model["backend"]
    model_id = str(model.get("model_id") or "")
    name = model_id if model_id.startswith(f"{backend}/") else backend
    return f"{_provider.PROVIDER}/{name}", args


def openai_served_model(model: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The eval provider of OpenAI models, fine-tuned (`ft:...`) or not: inspect-ai's own.

    Registered (kind `eval_provider`) for the `openai` backend.
    """
    model_id = str(model.get("model_id") or _missing(model, "model_id"))
    name = model_id if model_id.startswith("openai/") else f"openai/{model_id}"
    # Named, the endpoint also keys inspect's model cache: a base model evaluated before against
    # another server must not be served by that server's client.
    base_url = os.environ.get("OPENAI_BASE_URL")
    return name, ({"base_url": base_url} if base_url else {})


def weights_path(model: dict[str, Any]) -> str:
    """Where a model atom's weights are: `tinker://...`, or a local folder.

    For `local` models with a materialized atom folder (`weights_dir`), a relative `weights_path`
    is inside that folder, and a missing or absent `weights_path` means the folder itself.
    """
    path = model.get("weights_path")
    weights_dir = model.get("weights_dir")
    if model.get("backend") != "local" or not weights_dir:
        return str(path) if path else _missing(model, "weights_path")
    if path and "://" not in str(path):
        candidate = Path(path)
        if not candidate.is_absolute():
            return str(Path(weights_dir) / candidate)
        if candidate.exists():
            return str(candidate)
    return str(weights_dir)


def load_task(eval_task: str) -> Any:
    """The task function (or Task) named by `module:function`, a file's `path.py@function`, or
    a registered task name."""
    from inspect_ai import Task

    if ":" in eval_task or is_file_ref(eval_task):
        obj = import_string(eval_task, what="eval task")
    else:
        obj = resolve("task", eval_task)
    if not (isinstance(obj, Task) or callable(obj)):
        raise UserError(f"eval task {eval_task!r} is a {type(obj).__name__}, not a task function")
    return obj


def split_eval_kwargs(
    task_fn: Any, eval_kwargs: dict[str, Any], eval_task: str = "task"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split eval_kwargs into (task args, GenerateConfig args, `eval()` options)."""
    from inspect_ai import Task, eval
    from inspect_ai.model import GenerateConfig

    eval_params = set(pyinspect.signature(eval).parameters) - {"kwargs", "task_args"}
    task_args = dict(eval_kwargs.get("task_args") or {})
    generate_args: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in eval_kwargs.items():
        if key == "task_args":
            continue
        if key in RESERVED_EVAL_KWARGS:
            raise UserError(f"eval_kwargs for {eval_task!r}: {key!r} is set by the inspect backend")
        if key in GenerateConfig.model_fields:
            generate_args[key] = value
        elif key in eval_params:
            options[key] = value
        else:
            task_args[key] = value
    if task_args and isinstance(task_fn, Task):
        raise UserError(f"eval task {eval_task!r} is a Task and takes no arguments, got "
                        f"{', '.join(map(repr, sorted(task_args)))}")
    if task_args:
        params = pyinspect.signature(task_fn).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            unknown = sorted(set(task_args) - set(params))
            if unknown:
                raise UserError(
                    f"eval_kwargs for {eval_task!r}: {', '.join(map(repr, unknown))} is neither a "
                    f"task argument ({', '.join(params) or 'none'}) nor an inspect eval() or "
                    "GenerateConfig option"
                )
    return task_args, generate_args, options


def extract_metrics(log: Any) -> dict[str, Any]:
    """Metric name -> value, and `n` (samples scored); metrics of later scorers get `scorer/`."""
    metrics: dict[str, Any] = {}
    for i, score in enumerate(log.results.scores if log.results else []):
        prefix = "" if i == 0 else f"{score.name}/"
        for name, metric in score.metrics.items():
            value = metric.value
            metrics[prefix + name] = None if isinstance(value, float) and not math.isfinite(
                value) else value
        n = score.scored_samples
        metrics[prefix + "n"] = log.results.completed_samples if n is None else n
    return metrics


def extract_samples(log: Any) -> list[dict[str, Any]]:
    """A record per sample (and epoch): id, input, target, output and score."""
    records = []
    epochs = log.eval.config.epochs or 1
    for sample in log.samples or []:
        scores = {name: _jsonable(score.value) for name, score in (sample.scores or {}).items()}
        record: dict[str, Any] = {
            "id": sample.id,
            "input": sample.input if isinstance(sample.input, str)
            else "\n".join(message.text for message in sample.input),
            "target": sample.target,
            "output": sample.output.completion,
            "score": next(iter(scores.values()), None),
        }
        if epochs > 1:
            record["epoch"] = sample.epoch
        if len(scores) > 1:
            record["scores"] = scores
        if sample.error is not None:
            record["error"] = _one_line(sample.error.message)
        records.append(record)
    return records


@dataclass
class _Request:
    task: Any  # bound to its model, tagged with _REQUEST_KEY
    options: dict[str, Any]  # eval() options: calls share a run only when these are equal
    log_dir: Path
    solo: bool = False  # run alone (after a shared run failed as a whole)
    done: bool = False
    log: Any = None
    error: BaseException | None = None
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = json.dumps(self.options, sort_keys=True, default=repr)

    @property
    def id(self) -> str:
        return str(self.task.metadata[_REQUEST_KEY])


class _Runner:
    """Runs the `evaluate` calls of one process as shared inspect `eval()` runs, one at a time.

    A caller that finds no run in progress leads the next one: it waits `GATHER_S` for others to
    join, takes every pending call with its `eval()` options, runs them as one `eval()`, and hands
    each its log. A shared run that raises is retried one call at a time, so one bad call cannot
    fail the others. No event loop is kept: each `eval()` runs its own, in its leader's thread.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._busy = False

    def run(self, request: _Request) -> Any:
        with self._cond:
            self._pending.append(request)
        while True:
            with self._cond:
                while not request.done and self._busy:
                    self._cond.wait()
                if request.done:
                    break
                self._busy = True
            batch: list[_Request] = []
            outcomes: dict[str, tuple[Any, BaseException | None]] = {}
            try:
                if GATHER_S and not request.solo:
                    time.sleep(GATHER_S)
                with self._cond:
                    batch = [r for r in self._pending if r is request or (
                        not request.solo and not r.solo and r.key == request.key)]
                    self._pending = [r for r in self._pending if r not in batch]
                outcomes = self._execute(batch)
            except BaseException as exc:  # interrupted: nobody may wait for this run forever
                with self._cond:
                    self._pending = [r for r in self._pending if r is not request]
                interrupted = RuntimeError(f"evaluation interrupted: {exc!r}")
                for r in batch:
                    outcomes.setdefault(r.id, (None, interrupted))
                raise
            finally:
                with self._cond:
                    for r in batch:
                        if r.id in outcomes:
                            r.log, r.error = outcomes[r.id]
                            r.done = True
                        else:  # the shared run failed as a whole: run this call alone
                            r.solo = True
                            self._pending.append(r)
                    self._busy = False
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error
        return request.log

    def _execute(self, batch: list[_Request]) -> dict[str, tuple[Any, BaseException | None]]:
        """Outcomes by request id; a request without one is to be rerun alone."""
        from inspect_ai import eval
        from inspect_ai.log import read_eval_log

        options = batch[0].options
        if len(batch) == 1:
            request = batch[0]
            try:
                logs = eval(request.task, model=None, log_dir=str(request.log_dir),
                            display="none", **options)
            except Exception as exc:
                return {request.id: (None, exc)}
            if not logs:
                return {request.id: (None, RuntimeError("inspect eval() returned no log"))}
            return {request.id: (logs[0], None)}
        staging = Path(tempfile.mkdtemp(prefix="motools-inspect-"))
        try:
            try:
                logs = eval([r.task for r in batch], model=None, log_dir=str(staging),
                            display="none", max_tasks=len(batch), **options)
            except Exception:
                return {}
            by_id = {str((log.eval.metadata or {}).get(_REQUEST_KEY)): log for log in logs}
            outcomes: dict[str, tuple[Any, BaseException | None]] = {}
            for r in batch:
                log = by_id.get(r.id)
                if log is None:
                    continue
                r.log_dir.mkdir(parents=True, exist_ok=True)
                target = r.log_dir / Path(log.location).name
                shutil.move(log.location, target)
                # a returned log loads its samples lazily from where it was written: reread it
                outcomes[r.id] = (read_eval_log(str(target)), None)
            return outcomes
        finally:
            shutil.rmtree(staging, ignore_errors=True)


_RUNNER = _Runner()


def _missing(model: dict[str, Any], key: str) -> Any:
    raise UserError(f"model {model.get('model_id')!r} has no {key!r} in its metadata")


def _one_line(text: Any) -> str:
    return "; ".join(line.strip() for line in str(text).strip().splitlines() if line.strip())


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))
