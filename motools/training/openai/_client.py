"""The OpenAI SDK client, and the checks that run before anything is uploaded.

The key is read from `OPENAI_API_KEY` at the moment a client is made and handed straight to the
SDK: motools never keeps it, logs it, or passes it through Ray (workers see the cluster's own
environment). `OPENAI_BASE_URL` (read by the SDK itself) points the client at Azure-style or
self-hosted OpenAI-compatible servers. The SDK is imported only here, only when a client is made.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from motools._errors import MissingDependencyError, UserError

API_KEY_VAR = "OPENAI_API_KEY"
BASE_URL_VAR = "OPENAI_BASE_URL"
INSTALL = "pip install 'motools[openai]'"


def check_ready() -> None:
    """Raise a one-line UserError unless the SDK is installed and `OPENAI_API_KEY` is set.

    The message names the variable, never its value.
    """
    if importlib.util.find_spec("openai") is None:
        raise MissingDependencyError(f"the openai training backend needs the openai SDK: {INSTALL}")
    key = os.environ.get(API_KEY_VAR, "")
    if not key.strip():
        raise UserError(f"{API_KEY_VAR} is not set: the openai training backend reads the key "
                        f"from the environment (export {API_KEY_VAR}=sk-...)")
    if key != key.strip() or any(c.isspace() for c in key):
        raise UserError(f"{API_KEY_VAR} is malformed: it contains spaces or line breaks")


def make_client() -> Any:
    """An `openai.OpenAI` client for `OPENAI_API_KEY` (and `OPENAI_BASE_URL`, if set).

    Raises:
        UserError: The SDK or the key is missing (one line).
    """
    check_ready()
    import openai

    # The SDK retries connection errors and 429/5xx itself (with back-off); polling adds its own.
    return openai.OpenAI(api_key=os.environ[API_KEY_VAR],
                         base_url=os.environ.get(BASE_URL_VAR) or None, max_retries=5)


def api_error_message(exc: BaseException) -> str:
    """One line for an SDK error: OpenAI's own message (and code) without the request dump."""
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            message = error.get("message")
    text = str(message or getattr(exc, "message", None) or exc)
    status = getattr(exc, "status_code", None)
    prefix = f"HTTP {status}: " if status else ""
    return prefix + " ".join(text.split())
