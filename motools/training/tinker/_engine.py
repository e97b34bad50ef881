"""`TinkerEngine`: LoRA fine-tuning and sampling on the Tinker service.

The key is checked before any client exists, because offline a real training client blocks for
minutes before failing. The `ServiceClient` is made lazily in the process that uses it: its
background threads neither pickle nor survive `fork()`, so a trainer actor builds its own.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motools._errors import MissingDependencyError, UserError
from motools.training._protocol import Hyperparameters
from motools.training.tinker._renderer import TmlRenderer, is_supported

API_KEY_VAR = "TINKER_API_KEY"
BASE_URL_VAR = "TINKER_BASE_URL"
_API_KEY = re.compile(r"tml-[^\s'\"]+")
# The SDK accepts JWTs by their "eyJ" prefix (base64 of '{"'); this also wants the three parts.
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")
_EXPECTED = "a Tinker API key 'tml-...' or a JWT 'eyJ....(payload).(signature)'"


def check_api_key() -> None:
    """Raise a one-line UserError unless `TINKER_API_KEY` holds a well-formed key.

    The message names the variable and the expected form, never the value.
    """
    key = os.environ.get(API_KEY_VAR)
    if not key:
        raise UserError(f"{API_KEY_VAR} is not set: the tinker engine needs {_EXPECTED}")
    if not (_API_KEY.fullmatch(key) or _JWT.fullmatch(key)):
        raise UserError(f"{API_KEY_VAR} is malformed: expected {_EXPECTED} (no spaces or quotes)")


# `package.module:callable` returning a ServiceClient-like object. It is how a trainer actor in
# another process is pointed at a fake service in tests (or at a compatible self-hosted service).
SERVICE_FACTORY_VAR = "MOTOOLS_TINKER_SERVICE_FACTORY"


def _default_service() -> Any:
    if target := os.environ.get(SERVICE_FACTORY_VAR):
        from motools.registry import import_string

        return import_string(target, what=SERVICE_FACTORY_VAR)()
    import tinker

    # Read at call time and handed straight over: the engine never keeps the key.
    return tinker.ServiceClient(
        api_key=os.environ[API_KEY_VAR], base_url=os.environ.get(BASE_URL_VAR) or None
    )


class TinkerEngine:
    """The `Engine` for Tinker: LoRA training clients and sampling clients of the Tinker SDK.

    Args:
        service_factory: Makes the `tinker.ServiceClient` (or an object with its
            `create_lora_training_client`, `create_training_client_from_state_with_optimizer` and
            `create_sampling_client` methods). Defaults to `tinker.ServiceClient` with
            `TINKER_API_KEY` and `TINKER_BASE_URL` from the environment. Called at most once
            per process, after `check_ready()` passed.
    """

    name = "tinker"
    # `save_state` keeps weights and optimizer state, restored by
    # `create_training_client_from_state_with_optimizer`: a resumed run continues the same run.
    exact_resume = True

    def __init__(self, service_factory: Callable[[], Any] | None = None) -> None:
        self._service_factory = service_factory
        self._service: Any = None
        self._service_pid: int | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        factory = "default" if self._service_factory is None else "custom"
        return f"TinkerEngine(service_factory={factory})"

    def __getstate__(self) -> dict[str, Any]:
        # The service client stays behind: the receiving process makes its own.
        return {"_service_factory": self._service_factory}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["_service_factory"])  # type: ignore[misc]

    def check_ready(self) -> None:
        """Raise a one-line UserError if the SDK, tml-renderers or a well-formed key is missing."""
        for module, package in (("tinker", "the Tinker SDK"), ("tml_renderers", "tml-renderers")):
            if importlib.util.find_spec(module) is None:
                raise MissingDependencyError(
                    f"the tinker engine needs {package}: pip install 'motools[tinker]'"
                )
        check_api_key()

    def renderer(self, base_model: str) -> Any:
        """The chat renderer of `base_model`: offline (`TmlRenderer`) for the families
        tml-renderers ships; otherwise the model's own Hugging Face chat template, fetched from
        the hub, unless `HF_HUB_OFFLINE=1` (then a one-line error names the offline families)."""
        if is_supported(base_model) or os.environ.get("HF_HUB_OFFLINE") == "1":
            return TmlRenderer(base_model)
        from motools.training.tinker._hub_renderer import HubChatRenderer

        return HubChatRenderer(base_model)

    def _service_client(self) -> Any:
        self.check_ready()
        with self._lock:
            if self._service is None or self._service_pid != os.getpid():
                factory = self._service_factory or _default_service
                self._service, self._service_pid = factory(), os.getpid()
            return self._service

    def training_client(
        self, base_model: str, hp: Hyperparameters, workdir: Path, resume_from: str | None
    ) -> Any:
        """A `tinker.TrainingClient`: a fresh LoRA of rank `hp.lora_rank`, or a resumed one.

        Args:
            base_model: The Tinker base model, e.g. `Qwen/Qwen3-8B`.
            hp: Settings; `lora_rank` and `seed` shape the new adapter.
            workdir: Unused: Tinker keeps checkpoints on the service.
            resume_from: A `tinker://` path `save_state` returned; restores weights and
                optimizer state.

        Returns:
            The training client, once the service has created it.
        """
        del workdir
        service = self._service_client()
        if resume_from:
            _check_tinker_path(resume_from, "checkpoint to resume from")
            return service.create_training_client_from_state_with_optimizer(resume_from).result()
        return service.create_lora_training_client(
            base_model, rank=hp.lora_rank, seed=hp.seed
        ).result()

    def sampling_client(self, weights_path: str, base_model: str) -> Any:
        """A `tinker.SamplingClient` for sampler weights (`save_weights_for_sampler`'s path).

        Args:
            weights_path: A `tinker://` sampler path; or `base_model` itself to sample the
                untrained base model.
            base_model: The base model the weights were trained from.
        """
        service = self._service_client()
        if weights_path == base_model:
            return service.create_sampling_client(base_model=base_model).result()
        _check_tinker_path(weights_path, "sampler weights path")
        return service.create_sampling_client(model_path=weights_path).result()


def _check_tinker_path(path: str, what: str) -> None:
    if not path.startswith("tinker://"):
        raise UserError(f"the {what} must be a 'tinker://...' path, got {path!r}")
