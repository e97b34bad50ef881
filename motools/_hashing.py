"""Every digest motools computes goes through this module; the rules are in docs/hashing.md.

A digest is `sha256(tag + b"\\n" + canonical_json(payload))`. The tag names the record type and its
schema version, so two kinds of record can never collide and a schema change is a visible, explicit
version bump. Canonical JSON: sorted keys, no whitespace, UTF-8, floats by `repr`, no NaN/Infinity.
Never pickle bytes, never Python `hash()`: both differ between processes or versions.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel

ATOM_TAG = "motools.atom.v1"
TREE_TAG = "motools.tree.v1"
RECORDS_TAG = "motools.records.v1"
PLAN_TAG = "motools.plan.v1"
KEY_TAG = "motools.key.v1"
SOURCE_TAG = "motools.source.v1"

# Config fields whose names look like credentials never enter a key or provenance.
# `max_tokens`, `tokenizer` and `sort_key` are ordinary settings; `api_key`, `hf_token`,
# `client_secret`, `aws_secret_access_key` are not.
_SECRET_NAME = re.compile(
    r"^(.*_)?(api_?key|access_?key|secret_?key|private_?key|token|secret|password|passwd"
    r"|credentials?)$",
    re.I,
)


def is_secret_name(name: str) -> bool:
    """True for field names that look like credentials (`api_key`, `hf_token`, `client_secret`)."""
    return bool(_SECRET_NAME.search(name))


def to_plain(value: Any) -> Any:
    """Convert configs and containers to plain JSON data (dicts, lists, str, int, float, bool, None)."""
    kind = type(value)
    # Exact types first: records are mostly plain dicts of strings, and the generic checks below
    # (dataclass, Mapping ABC) cost several times more per value.
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError(f"mapping keys must be strings to be hashed, got {k!r}")
            out[k] = to_plain(v)
        return out
    if isinstance(value, BaseModel):
        return to_plain(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"mapping keys must be strings to be hashed, got {k!r}")
            out[k] = to_plain(v)
        return out
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_plain(v) for v in value), key=canonical_json)
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite float {value!r} cannot be hashed")
        return value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"cannot hash a value of type {type(value).__name__}: {value!r}")


def redact_secrets(value: Any) -> Any:
    """Plain data with every secret-looking mapping key removed, at any depth."""
    if isinstance(value, dict):
        return {k: redact_secrets(v) for k, v in value.items() if not is_secret_name(k)}
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    """The one byte encoding every digest is taken over."""
    return json.dumps(
        to_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(tag: str, payload: Any) -> str:
    """Hex sha256 of a tagged, canonically encoded payload."""
    h = hashlib.sha256()
    h.update(tag.encode("ascii") + b"\n")
    h.update(canonical_json(payload))
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of raw bytes (blob contents)."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | PurePath, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
