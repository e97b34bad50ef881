"""The `motools` inspect-ai model provider: serves trained models through the training engines.

Importing this module registers the provider with inspect-ai (`@modelapi(name="motools")`), so a
fresh process (a Ray worker) only needs `import motools.evals._provider` before `eval()`.

Model names are `motools/<engine>[/<model id>]` (`motools/local`, `motools/tinker/Qwen/...`): the
first part after `motools/` picks the engine, the rest is the model's own name, as it appears in
inspect's log. Model args say what to serve:

    get_model("motools/local", weights_path="/store/.../weights", base_model="local/tiny-byte-lm")
    eval(task, model="motools/tinker",
         model_args={"weights_path": "tinker://...", "base_model": "Qwen/Qwen3-8B"})

The engine comes from `motools.training.get_engine(<engine>)`, unless model args carry
`engine_key`: the key `register_engine(engine)` returned for an engine object of this process
(how tests inject fake engines; a string key, so inspect can log and memoize the model args).

Generation renders the chat with the engine's renderer, samples once (greedy unless `temperature`
is set; stops at the renderer's stop tokens) and decodes. `max_tokens` is the task's or the
user's; else the engine's limit for the model (`engine.max_tokens(base_model)`: 32 for the tiny
byte model), else inspect's own default, `INSPECT_MAX_TOKENS`. `sample(...).result()` blocks, so it
runs in a process-wide pool of `SAMPLER_THREADS` threads (asyncio's default pool has only
cpu_count + 4), and inspect may send `SAMPLER_THREADS` requests at once: the samples of an eval,
and of several evals, are sampled concurrently, and a sampler that batches (the local engine's
pretrained models) generates them in batches. Outputs carry token usage and the provider counts
tokens itself, so inspect never reaches for tiktoken (which downloads its encoding files).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

PROVIDER = "motools"
INSPECT_MAX_TOKENS = 2048
"""inspect-ai's own default (`inspect_ai._util.constants.DEFAULT_MAX_TOKENS`, used by its hf
provider), for models whose engine sets no limit."""
SAMPLER_THREADS = 64

_STOP_REASONS = {"stop": "stop", "length": "max_tokens"}

_lock = threading.Lock()
_engines: dict[str, Any] = {}
_pool: ThreadPoolExecutor | None = None


def register_engine(engine: Any) -> str:
    """Make an engine object servable in this process; returns a new `engine_key` model arg.

    The provider looks the engine up when the model is created (`get_model`); after that the key
    can go (`unregister_engine`).
    """
    key = f"{getattr(engine, 'name', type(engine).__name__)}-{uuid.uuid4().hex[:12]}"
    with _lock:
        _engines[key] = engine
    return key


def unregister_engine(key: str) -> None:
    """Forget an engine key (models already created keep their engine)."""
    with _lock:
        _engines.pop(key, None)


def _engine(name: str, key: str | None) -> Any:
    if key is None:
        from motools.training import get_engine

        return get_engine(name)
    with _lock:
        engine = _engines.get(key)
    if engine is None:
        raise ValueError(f"no engine is registered under engine_key {key!r} in this process")
    return engine


def _sampler_pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(SAMPLER_THREADS, thread_name_prefix="motools-sample")
        return _pool


def to_chat(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """inspect chat messages as the `{"role", "content"}` dicts renderers take (text only)."""
    return [{"role": message.role, "content": message.text} for message in messages]


class MotoolsModelAPI(ModelAPI):
    """Serves the weights at `weights_path` of `base_model` through the engine named `model_name`.

    Args:
        model_name: The engine (`local` or `tinker`), optionally followed by `/` and the model's
            name for the log.
        weights_path: What `engine.sampling_client` takes: a local folder or `tinker://...`.
        base_model: The base model the weights belong to (selects the renderer).
        engine_key: A key from `register_engine`, instead of `get_engine(model_name)`.
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        *,
        weights_path: str | None = None,
        base_model: str | None = None,
        engine_key: str | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(
            model_name=model_name,
            base_url=base_url,
            api_key=api_key,
            config=GenerateConfig() if config is None else config,
        )
        if model_args:
            raise ValueError(
                f"unknown model args for {PROVIDER}/{model_name}: {', '.join(sorted(model_args))}"
                " (accepted: weights_path, base_model, engine_key)"
            )
        if not weights_path or not base_model:
            raise ValueError(
                f"{PROVIDER}/{model_name} needs model args weights_path and base_model"
            )
        self.weights_path = str(weights_path)
        self.base_model = base_model
        self.engine = _engine(model_name.split("/", 1)[0], engine_key)
        self.renderer = self.engine.renderer(base_model)
        limit = getattr(self.engine, "max_tokens", None)
        self._max_tokens: int | None = limit(base_model) if limit else None
        self._client: Any = None
        self._client_lock = threading.Lock()

    def _sampling_client(self) -> Any:
        with self._client_lock:  # created once, on first use, in a sampler thread
            if self._client is None:
                self._client = self.engine.sampling_client(self.weights_path, self.base_model)
            return self._client

    def _sample(self, prompt: list[int], params: Any) -> tuple[list[int], str]:
        from tinker import types

        future = self._sampling_client().sample(types.ModelInput.from_ints(prompt), 1, params)
        sequence = future.result().sequences[0]
        return list(sequence.tokens), str(getattr(sequence, "stop_reason", "stop"))

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        from tinker import types

        prompt = list(self.renderer.render_prompt(to_chat(input)))
        params = types.SamplingParams(
            max_tokens=config.max_tokens or self._max_tokens or INSPECT_MAX_TOKENS,
            temperature=0.0 if config.temperature is None else config.temperature,
            top_p=1.0 if config.top_p is None else config.top_p,
            top_k=-1 if config.top_k is None else config.top_k,
            seed=config.seed,
            stop=list(self.renderer.stop),
        )
        loop = asyncio.get_running_loop()
        tokens, stop_reason = await loop.run_in_executor(
            _sampler_pool(), self._sample, prompt, params
        )
        text = self.renderer.decode(tokens)
        for stop in config.stop_seqs or []:  # text stops: the renderer's stops are token ids
            text = text.split(stop, 1)[0]
        output = ModelOutput.from_content(
            model=self.model_name,
            content=text,
            stop_reason=_STOP_REASONS.get(stop_reason, "unknown"),  # type: ignore[arg-type]
        )
        output.usage = ModelUsage(
            input_tokens=len(prompt),
            output_tokens=len(tokens),
            total_tokens=len(prompt) + len(tokens),
        )
        return output

    async def count_text_tokens(self, text: str) -> int:
        """About 4 characters a token; never tiktoken, which downloads its encoding files."""
        return (len(text) + 3) // 4

    def max_tokens(self) -> int | None:
        return self._max_tokens

    def max_connections(self) -> int:
        """Every sample of an eval at once: the sampler pool is the limit (and a batching
        sampler sees the whole eval)."""
        return SAMPLER_THREADS

    def connection_key(self) -> str:
        return f"{self.model_name}:{self.weights_path}"


# Registered without rebinding the name (the decorator returns a factory function, not the class).
modelapi(name=PROVIDER)(MotoolsModelAPI)
