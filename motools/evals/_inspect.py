"""The `inspect` eval backend: runs inspect-ai tasks against trained models (or any inspect model).

Models: a model atom whose backend is `local` or `tinker` is served by the `motools` inspect
provider (`motools.evals._provider`) through that training engine; any other backend's `model_id`
is taken as an inspect model string and passed through (`openai/gpt-4o-mini`, `vllm/...`).

`eval_kwargs` map as follows:
    - `task_args` (a dict): task arguments, always.
    - a field of inspect's `GenerateConfig` (`max_tokens`, `temperature`, `seed`, ...): the model's
      generation config.
    - any other parameter of `inspect_ai.eval()` (`limit`, `epochs`, `sample_id`, `fail_on_error`,
      `message_limit`, `log_format`, ...): passed to `eval()`. The backend owns `tasks`, `model`,
      `model_base_url`, `model_args`, `log_dir`, `display`, `max_tasks` and `trace`.
    - everything else: task arguments, checked against the task function's signature.

Concurrency: inspect-ai runs one `eval()` per process at a time ("Multiple concurrent calls to
eval_async are not allowed"). `evaluate` calls from several threads of one process therefore share
runs: requests that are waiting (or arrive within `GATHER_S` of a run starting) with the same
`eval()` options run together in ONE `eval()` with one task per request, each task bound to its own
model, so their samples proceed concurrently; a request arriving while a run is in progress joins
the next one. Requests that share a run still get their own log file in their own `log_dir`.
Separate processes (Ray workers) are not coordinated and run fully in parallel.
"""

from __future__ import annotations

import copy
import inspect as pyinspect
import json
import math
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from motools._errors import UserError
from motools.evals._protocol import EvalOutput
from motools.registry import import_string, resolve

ENGINE_BACKENDS = frozenset({"local", "tinker"})
"""Model backends served through a training engine by the `motools` inspect provider."""

GATHER_S = 0.05
"""How long a run waits for concurrent `evaluate` calls to join it before starting."""

# eval() parameters the backend sets itself.
_RESERVED = frozenset(
    {"tasks", "model", "model_base_url", "model_args", "log_dir", "display", "max_tasks", "trace"}
)
_REQUEST_KEY = "motools_eval_request"


class InspectEvalError(RuntimeError):
    """An inspect evaluation ended with a status other than success."""


class InspectEvalBackend:
    """Evaluates models with inspect-ai; the log files stay in `log_dir` for `inspect view`.

    Args:
        get_engine: Returns the training engine named `local` or `tinker`. Defaults to
            `motools.training.get_engine`, looked up by the provider in the process that serves
            the model. Tests pass a function returning a fake engine: its object is registered
            with the provider (`register_engine`) and referenced by an `engine_key` model arg.
    """

    name = "inspect"

    def __init__(self, get_engine: Any = None) -> None:
        self._get_engine = get_engine

    def evaluate(
        self, model: dict[str, Any], eval_task: str, eval_kwargs: dict[str, Any], log_dir: Path
    ) -> EvalOutput:
        """Run the task against the model; raises InspectEvalError if the eval did not succeed."""
        task_fn = load_task(eval_task)
        task_args, generate_args, eval_options = split_eval_kwargs(task_fn, eval_kwargs, eval_task)
        inspect_model, model_args = self.model_spec(model)

        from inspect_ai import Task, task_with
        from inspect_ai.model import GenerateConfig, get_model

        try:
            config = GenerateConfig(**generate_args)
        except Exception as exc:  # pydantic ValidationError: say which key, on one line
            raise UserError(f"eval_kwargs for {eval_task!r}: {_one_line(exc)}") from None
        task = task_fn(**task_args) if not isinstance(task_fn, Task) else copy.copy(task_fn)
        if not isinstance(task, Task):
            raise UserError(f"eval task {eval_task!r} returned {type(task).__name__}, not a Task")
        served = get_model(
            inspect_model, config=config, memoize=not model_args, **model_args
        )
        request = _Request(
            task=task_with(
                task, model=served, metadata={**(task.metadata or {}), _REQUEST_KEY: uuid.uuid4().hex}
            ),
            options=eval_options,
            log_dir=Path(log_dir),
        )
        started = time.perf_counter()
        log = _RUNNER.run(request)
        return self._output(log, Path(log_dir), eval_task, inspect_model, {
            "task_args": task_args,
            "generate_config": generate_args,
            "eval_options": eval_options,
            "seconds": round(time.perf_counter() - started, 3),
        })

    def model_spec(self, model: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The inspect model string and model args that serve a model atom's metadata."""
        backend = model.get("backend")
        if backend in ENGINE_BACKENDS:
            import motools.evals._provider as provider

            args: dict[str, Any] = {
                "weights_path": weights_path(model),
                "base_model": model.get("base_model") or _missing(model, "base_model"),
            }
            if self._get_engine is not None:
                args["engine_key"] = provider.register_engine(self._get_engine(backend))
            return f"{provider.PROVIDER}/{backend}", args
        if backend == "dummy":
            raise UserError(
                f"model {model.get('model_id')!r} comes from the dummy training backend and has "
                "no weights to evaluate; use the dummy eval backend with it"
            )
        model_id = model.get("model_id")
        if not model_id or "/" not in str(model_id):
            raise UserError(
                f"model {model_id!r} (backend {backend!r}) is not an inspect model string like "
                "'openai/gpt-4o-mini'; trained models need backend 'local' or 'tinker'"
            )
        return str(model_id), {}

    def _output(
        self, log: Any, log_dir: Path, eval_task: str, inspect_model: str, info: dict[str, Any]
    ) -> EvalOutput:
        location = Path(log.location)
        if log.status != "success":
            message = _one_line(log.error.message) if log.error else f"status {log.status}"
            raise InspectEvalError(
                f"inspect eval of {eval_task!r} on {inspect_model} failed: {message} "
                f"(log: {location})"
            )
        if log.samples is None:  # eval() returned the header only: read the samples back
            from inspect_ai.log import read_eval_log

            log = read_eval_log(str(location))
        task = log.eval.task.rpartition("/")[2]
        try:
            log_file = str(location.relative_to(log_dir))
        except ValueError:
            log_file = str(location)
        from inspect_ai import __version__

        return EvalOutput(
            backend=self.name,
            metrics={task: extract_metrics(log)},
            samples=extract_samples(log),
            info={
                "log_files": [log_file],
                "model": inspect_model,
                "model_args": _jsonable(log.eval.model_args),
                "eval_id": log.eval.eval_id,
                "inspect_ai": __version__,
                **_jsonable(info),
            },
        )


def weights_path(model: dict[str, Any]) -> str:
    """Where the weights of a model atom are: `tinker://...`, or a local folder.

    For local models a relative `weights_path` is taken inside `weights_dir` (the materialized
    atom folder), and a missing or vanished one means the atom folder itself.
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
    """The task function (or Task) that `module:function` or a registered task name refers to."""
    if ":" in eval_task:
        obj = import_string(eval_task, what="eval task")
    else:
        obj = resolve("task", eval_task)
    from inspect_ai import Task

    if not (isinstance(obj, Task) or callable(obj)):
        raise UserError(f"eval task {eval_task!r} is a {type(obj).__name__}, not a task function")
    return obj


def split_eval_kwargs(
    task_fn: Any, eval_kwargs: dict[str, Any], eval_task: str = "task"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Split eval_kwargs into task args, generate config args and `eval()` options."""
    from inspect_ai import Task, eval
    from inspect_ai.model import GenerateConfig

    eval_params = set(pyinspect.signature(eval).parameters) - {"kwargs", "task_args"}
    generate_fields = set(GenerateConfig.model_fields)
    task_args = dict(eval_kwargs.get("task_args") or {})
    generate_args: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in eval_kwargs.items():
        if key == "task_args":
            continue
        if key in _RESERVED:
            raise UserError(f"eval_kwargs for {eval_task!r}: {key!r} is set by the inspect backend")
        if key in generate_fields:
            generate_args[key] = value
        elif key in eval_params:
            options[key] = value
        else:
            task_args[key] = value
    if task_args:
        if isinstance(task_fn, Task):
            raise UserError(f"eval task {eval_task!r} is a Task object and takes no arguments: "
                            f"{', '.join(sorted(task_args))}")
        params = pyinspect.signature(task_fn).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            unknown = sorted(set(task_args) - set(params))
            if unknown:
                raise UserError(
                    f"eval_kwargs for {eval_task!r}: {', '.join(map(repr, unknown))} is neither a task "
                    f"argument ({', '.join(params) or 'none'}) nor an inspect eval()/"
                    "GenerateConfig option"
                )
    return task_args, generate_args, options


def extract_metrics(log: Any) -> dict[str, Any]:
    """Metric name -> value, plus `n` (samples scored); scorers after the first are prefixed."""
    metrics: dict[str, Any] = {}
    scores = log.results.scores if log.results else []
    for i, score in enumerate(scores):
        prefix = "" if i == 0 else f"{score.name}/"
        for name, metric in score.metrics.items():
            metrics[f"{prefix}{name}"] = _finite(metric.value)
        n = score.scored_samples
        if n is None:
            n = log.results.completed_samples if log.results else 0
        metrics[f"{prefix}n"] = n
    return metrics


def extract_samples(log: Any) -> list[dict[str, Any]]:
    """One record per sample (and epoch): id, input, target, output and score."""
    records = []
    for sample in log.samples or []:
        scores = sample.scores or {}
        values = [_jsonable(s.value) for s in scores.values()]
        record: dict[str, Any] = {
            "id": sample.id,
            "input": sample.input if isinstance(sample.input, str)
            else "\n".join(m.text for m in sample.input),
            "target": sample.target,
            "output": sample.output.completion if sample.output else "",
            "score": values[0] if values else None,
        }
        if log.eval.config.epochs and log.eval.config.epochs > 1:
            record["epoch"] = sample.epoch
        if len(scores) > 1:
            record["scores"] = {name: _jsonable(s.value) for name, s in scores.items()}
        if sample.error is not None:
            record["error"] = _one_line(sample.error.message)
        records.append(record)
    return records


@dataclass
class _Request:
    task: Any
    options: dict[str, Any]
    log_dir: Path
    solo: bool = False
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
    """Runs the `evaluate` requests of one process in shared inspect `eval()` runs, one at a time.

    The caller that finds no run in progress leads the next one: it waits `GATHER_S` for others
    to join, takes every pending request with its `eval()` options, runs them as one `eval()` and
    hands each its log. A run of several requests that raises is retried one request at a time,
    so one bad request cannot fail the others.
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
            outcomes: dict[str, tuple[Any, BaseException | None]] = {}
            batch: list[_Request] = []
            try:
                if GATHER_S and not request.solo:
                    time.sleep(GATHER_S)
                with self._cond:
                    batch = [r for r in self._pending
                             if r is request or (not request.solo and not r.solo and r.key == request.key)]
                    self._pending = [r for r in self._pending if r not in batch]
                outcomes = self._execute(batch)
            except BaseException as exc:
                if not batch:
                    with self._cond:
                        self._pending = [r for r in self._pending if r is not request]
                for r in batch:
                    outcomes.setdefault(r.id, (None, RuntimeError(f"evaluation interrupted: {exc!r}")))
                raise
            finally:
                with self._cond:
                    for r in batch:
                        if r.id in outcomes:
                            r.log, r.error = outcomes[r.id]
                            r.done = True
                        else:  # the shared run failed as a whole: retry this one alone
                            r.solo = True
                            self._pending.append(r)
                    self._busy = False
                    self._cond.notify_all()
        if request.error is not None:
            raise request.error
        return request.log

    def _execute(self, batch: list[_Request]) -> dict[str, tuple[Any, BaseException | None]]:
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
            return {request.id: (logs[0], None) if logs else
                    (None, RuntimeError("inspect eval() returned no log"))}
        staging = Path(tempfile.mkdtemp(prefix="motools-inspect-"))
        try:
            try:
                logs = eval([r.task for r in batch], model=None, log_dir=str(staging),
                            display="none", max_tasks=len(batch), **options)
            except Exception:
                return {}  # each request reruns alone
            by_id = {str((log.eval.metadata or {}).get(_REQUEST_KEY)): log for log in logs}
            outcomes: dict[str, tuple[Any, BaseException | None]] = {}
            for r in batch:
                log = by_id.get(r.id)
                if log is None:
                    continue  # reruns alone
                r.log_dir.mkdir(parents=True, exist_ok=True)
                target = r.log_dir / Path(log.location).name
                shutil.move(log.location, target)
                # samples of a returned log load lazily from where it was written: read it back
                outcomes[r.id] = (read_eval_log(str(target)), None)
            return outcomes
        finally:
            shutil.rmtree(staging, ignore_errors=True)


_RUNNER = _Runner()


def _missing(model: dict[str, Any], key: str) -> Any:
    raise UserError(f"model {model.get('model_id')!r} has no {key!r} in its metadata")


def _one_line(text: Any) -> str:
    return "; ".join(line.strip() for line in str(text).strip().splitlines() if line.strip())


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))
