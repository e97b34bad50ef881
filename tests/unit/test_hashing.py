"""Tests for motools._hashing: canonical JSON, tagged digests, secret redaction, golden digests.

The golden hex strings below were computed once. If one of these tests fails, a hashing rule changed
and every cache key / atom id in every existing store changed with it: that must be a deliberate,
visible schema-version bump (a new tag), never a side effect.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
from pathlib import PurePosixPath

import pydantic
import pytest

from motools._hashing import (
    ATOM_TAG,
    KEY_TAG,
    PLAN_TAG,
    RECORDS_TAG,
    SOURCE_TAG,
    TREE_TAG,
    canonical_json,
    digest,
    is_secret_name,
    redact_secrets,
    sha256_bytes,
    sha256_file,
    to_plain,
)
from motools.atom._store import FileEntry, compute_atom_id, tree_digest
from motools.workflow._plan import cache_key

# --- golden digests ---------------------------------------------------------------------------

GOLDEN_KEY_PAYLOAD = {
    "step": "prepare_dataset",
    "version": "1",
    "config": {"num_samples": 3, "learning_rate": 0.0001, "name": "ünï"},
    "inputs": {},
}
GOLDEN_KEY_DIGEST = "3b51c315071780bf00305df312e9c266c105bf3ab9f15785d2f55763da572c7e"
GOLDEN_ATOM_ID = "dataset-a9886c8ccc430b8782827af74f4d40dc75b1363a6da016c39e036bb7d9bb468a"
GOLDEN_CACHE_KEY = "d80a5a02358b65f917818395f6387da5f1f8a456062f46317d51364e1a984b81"
GOLDEN_TREE_DIGEST = "bee85a92065c3303b48cdc7042bd92bd3085cc5c4046b3d82a0f5f2de980ef9c"


def test_digest_of_key_payload_matches_golden_value() -> None:
    assert digest(KEY_TAG, GOLDEN_KEY_PAYLOAD) == GOLDEN_KEY_DIGEST


def test_digest_is_sha256_of_tag_newline_canonical_json() -> None:
    pre_image = (
        b"motools.key.v1\n"
        b'{"config":{"learning_rate":0.0001,"name":"\xc3\xbcn\xc3\xaf","num_samples":3},'
        b'"inputs":{},"step":"prepare_dataset","version":"1"}'
    )
    assert hashlib.sha256(pre_image).hexdigest() == GOLDEN_KEY_DIGEST


def test_compute_atom_id_matches_golden_value() -> None:
    atom_id = compute_atom_id("dataset", "ab" * 32, {"samples": 3, "columns": ["messages"]})
    assert atom_id == GOLDEN_ATOM_ID


def test_cache_key_matches_golden_value() -> None:
    key = cache_key(
        "train", "2", {"learning_rate": 1e-4, "n_epochs": 2}, {"dataset": "dataset-" + "0" * 64}
    )
    assert key == GOLDEN_CACHE_KEY


def test_tree_digest_matches_golden_value() -> None:
    files = {
        "weights.bin": FileEntry(sha256="cd" * 32, size=4),
        "sub/config.json": FileEntry(sha256="ef" * 32, size=2),
    }
    assert tree_digest(files) == GOLDEN_TREE_DIGEST


def test_tags_are_distinct_and_versioned() -> None:
    tags = [ATOM_TAG, TREE_TAG, RECORDS_TAG, PLAN_TAG, KEY_TAG, SOURCE_TAG]
    assert len(set(tags)) == len(tags)
    assert all(t.startswith("motools.") and t.rsplit(".", 1)[1].startswith("v") for t in tags)


def test_same_payload_under_different_tags_gives_different_digests() -> None:
    payload = {"a": 1}
    assert digest(KEY_TAG, payload) != digest(PLAN_TAG, payload)


def test_sha256_bytes_and_file_agree_with_hashlib(tmp_path) -> None:
    data = b"hello" * 1000
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_bytes(data) == expected
    assert sha256_file(path, chunk=7) == expected


# --- canonical JSON ---------------------------------------------------------------------------


def test_canonical_json_sorts_keys_at_every_depth() -> None:
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == b'{"a":{"c":3,"d":2},"b":1}'


def test_canonical_json_has_no_whitespace() -> None:
    encoded = canonical_json({"a": [1, 2, {"b": "x y"}], "c": None})
    assert encoded == b'{"a":[1,2,{"b":"x y"}],"c":null}'


def test_canonical_json_insertion_order_does_not_matter() -> None:
    assert canonical_json({"x": 1, "y": 2}) == canonical_json({"y": 2, "x": 1})


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0.1, b"0.1"), (1e-4, b"0.0001"), (1e20, b"1e+20"), (2.5e-7, b"2.5e-07"), (1.5, b"1.5")],
)
def test_canonical_json_encodes_floats_by_repr(value: float, encoded: bytes) -> None:
    assert canonical_json(value) == encoded
    assert encoded.decode() == repr(value)


def test_canonical_json_keeps_int_and_float_distinct() -> None:
    assert canonical_json(1) == b"1"
    assert canonical_json(1.0) == b"1.0"


def test_canonical_json_is_utf8_without_ascii_escapes() -> None:
    assert canonical_json({"ü": "日本"}) == '{"ü":"日本"}'.encode()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_canonical_json_rejects_non_finite_floats(bad: float) -> None:
    with pytest.raises(ValueError):
        canonical_json({"lr": bad})


def test_digest_rejects_nan() -> None:
    with pytest.raises(ValueError):
        digest(KEY_TAG, {"x": [1.0, float("nan")]})


def test_tuples_and_lists_encode_the_same() -> None:
    assert canonical_json((1, "a", (2.5, None))) == canonical_json([1, "a", [2.5, None]])
    assert digest(KEY_TAG, {"x": (1, 2)}) == digest(KEY_TAG, {"x": [1, 2]})


def test_sets_encode_in_a_stable_sorted_order() -> None:
    assert canonical_json({"b", "a", "c"}) == b'["a","b","c"]'


def test_non_string_mapping_keys_are_rejected() -> None:
    with pytest.raises(TypeError):
        canonical_json({1: "a"})


def test_unhashable_objects_are_rejected_not_reprd() -> None:
    with pytest.raises(TypeError):
        canonical_json({"f": object()})


def test_pydantic_models_dataclasses_enums_and_paths_become_plain_data() -> None:
    class Color(enum.Enum):
        RED = "red"

    @dataclasses.dataclass
    class DC:
        n: int
        color: Color

    class Model(pydantic.BaseModel):
        dc: dict[str, int]
        path: str

    plain = to_plain(
        {
            "dc": DC(n=1, color=Color.RED),
            "m": Model(dc={"a": 1}, path="p"),
            "p": PurePosixPath("a/b"),
        }
    )
    assert plain == {"dc": {"n": 1, "color": "red"}, "m": {"dc": {"a": 1}, "path": "p"}, "p": "a/b"}
    assert json.loads(canonical_json(plain)) == plain


def test_dataclass_and_equal_dict_have_the_same_digest() -> None:
    @dataclasses.dataclass
    class Cfg:
        learning_rate: float
        n_epochs: int

    assert digest(KEY_TAG, Cfg(1e-4, 2)) == digest(KEY_TAG, {"n_epochs": 2, "learning_rate": 1e-4})


# --- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["api_key", "apikey", "API_KEY", "hf_token", "client_secret", "password", "db_passwd",
     "credentials", "openai_api_key"],
)
def test_secret_looking_names_are_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["max_tokens", "tokenizer", "monkey", "learning_rate", "model", "token_limit", "keys"]
)
def test_ordinary_names_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_redact_secrets_removes_secret_keys_and_keeps_others() -> None:
    data = {
        "api_key": "sk-123",
        "hf_token": "hf_abc",
        "client_secret": "s",
        "password": "p",
        "max_tokens": 256,
        "tokenizer": "gpt2",
        "monkey": "bonobo",
    }
    assert redact_secrets(data) == {"max_tokens": 256, "tokenizer": "gpt2", "monkey": "bonobo"}


def test_redact_secrets_works_at_any_depth_and_inside_lists() -> None:
    data = {"backend": {"api_key": "sk", "name": "tinker"}, "items": [{"hf_token": "t", "n": 1}]}
    assert redact_secrets(data) == {"backend": {"name": "tinker"}, "items": [{"n": 1}]}


def test_redact_secrets_does_not_mutate_its_input() -> None:
    data = {"api_key": "sk", "n": 1}
    redact_secrets(data)
    assert data == {"api_key": "sk", "n": 1}
