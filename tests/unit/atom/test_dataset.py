"""Tests for motools.atom._dataset.Dataset."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from motools._errors import UserError
from motools._hashing import RECORDS_TAG, digest
from motools.atom._dataset import MESSAGES_TYPE, Dataset

GOLDEN_RECORDS = [
    {
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "Hello, World!"},
        ]
    }
]
GOLDEN_DIGEST = "5c6eb9e72d5cf567c0ef2228a806c243ed42018576d4e3f97389c69eb215023f"


def chat(user: str, assistant: str, **extra: object) -> dict:
    return {
        "messages": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ],
        **extra,
    }


RECORDS = [chat("hi", "hello", id=1), chat("2+2?", "4", id=2), chat("ünïcode", "✓ 日本", id=3)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# --- round trips and form independence -------------------------------------------------------


def test_records_to_jsonl_round_trip_is_equal(tmp_path: Path) -> None:
    ds = Dataset.from_records(RECORDS)
    back = Dataset.from_jsonl(ds.to_jsonl(tmp_path / "out.jsonl"))
    assert back == ds
    assert back.to_records() == ds.to_records()


def test_to_jsonl_writes_one_utf8_object_per_line(tmp_path: Path) -> None:
    path = Dataset.from_records(RECORDS).to_jsonl(tmp_path / "out.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert "✓ 日本" in lines[2]  # ensure_ascii=False
    assert json.loads(lines[0])["id"] == 1


def test_digest_is_the_same_for_records_jsonl_parquet_and_folder(tmp_path: Path) -> None:
    from_records = Dataset.from_records(RECORDS)
    from_jsonl = Dataset.from_jsonl(write_jsonl(tmp_path / "d.jsonl", RECORDS))
    pq.write_table(pa.Table.from_pylist(RECORDS), tmp_path / "d.parquet")
    from_parquet = Dataset.from_parquet(tmp_path / "d.parquet")
    folder = tmp_path / "parts"
    folder.mkdir()
    write_jsonl(folder / "part-0.jsonl", RECORDS[:2])
    pq.write_table(pa.Table.from_pylist(RECORDS[2:]), folder / "part-1.parquet")
    from_folder = Dataset.from_path(folder)
    digests = {d.content_digest() for d in (from_records, from_jsonl, from_parquet, from_folder)}
    assert len(digests) == 1
    assert len(from_folder) == 3


def test_folder_parts_are_concatenated_in_file_name_order(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "b.jsonl", RECORDS[1:])
    write_jsonl(tmp_path / "a.jsonl", RECORDS[:1])
    (tmp_path / "notes.txt").write_text("ignored")
    assert Dataset.from_path(tmp_path) == Dataset.from_records(RECORDS)


def test_folder_parts_with_int_and_float_columns_match_records(tmp_path: Path) -> None:
    rows = [{"x": 1}, {"x": 2.5}]
    write_jsonl(tmp_path / "a.jsonl", rows[:1])
    write_jsonl(tmp_path / "b.jsonl", rows[1:])
    assert Dataset.from_path(tmp_path) == Dataset.from_records(rows)


def test_from_parquet_accepts_bytes_and_buffers() -> None:
    ds = Dataset.from_records(RECORDS)
    data = ds.to_parquet_bytes()
    assert Dataset.from_parquet(data) == ds
    assert Dataset.from_parquet(pa.py_buffer(data)) == ds


def test_missing_key_and_explicit_null_have_the_same_digest() -> None:
    a = Dataset.from_records([{"a": 1, "b": None}, {"a": 2}])
    b = Dataset.from_records([{"a": 1}, {"a": 2, "b": None}])
    assert a == b


# --- digest sensitivity, stability, golden value ---------------------------------------------


def test_changing_one_character_changes_the_digest() -> None:
    changed = [chat("hi", "hello", id=1), chat("2+2?", "5", id=2), chat("ünïcode", "✓ 日本", id=3)]
    assert Dataset.from_records(RECORDS) != Dataset.from_records(changed)


def test_reordering_rows_changes_the_digest() -> None:
    assert Dataset.from_records(RECORDS) != Dataset.from_records(list(reversed(RECORDS)))


def test_int_and_float_are_different_content() -> None:
    assert Dataset.from_records([{"x": 1}]) != Dataset.from_records([{"x": 1.0}])


def test_digest_is_stable_across_processes() -> None:
    code = (
        "from motools.atom._dataset import Dataset\n"
        f"print(Dataset.from_records({RECORDS!r}).content_digest())\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "12345"},
    )
    assert out.stdout.strip() == Dataset.from_records(RECORDS).content_digest()


def test_golden_digest() -> None:
    assert Dataset.from_records(GOLDEN_RECORDS).content_digest() == GOLDEN_DIGEST


def test_digest_pre_image_is_tag_newline_and_canonical_json_array() -> None:
    pre_image = (
        b"motools.records.v1\n"
        b'[{"messages":[{"content":"hi","role":"user"},'
        b'{"content":"Hello, World!","role":"assistant"}]}]'
    )
    assert hashlib.sha256(pre_image).hexdigest() == GOLDEN_DIGEST
    assert digest(RECORDS_TAG, GOLDEN_RECORDS) == GOLDEN_DIGEST


def test_empty_dataset_has_no_columns_and_digest_of_empty_list() -> None:
    ds = Dataset.from_records([])
    assert len(ds) == 0
    assert ds.columns == []
    assert ds.content_digest() == digest(RECORDS_TAG, [])


# --- schema ----------------------------------------------------------------------------------


def test_messages_type_is_canonical_when_jsonl_keys_are_content_then_role(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"messages": [{"content": "hi", "role": "user"}]}\n', encoding="utf-8")
    ds = Dataset.from_jsonl(path)
    assert ds.to_arrow().schema.field("messages").type == MESSAGES_TYPE
    assert str(MESSAGES_TYPE) == "list<item: struct<role: string, content: string>>"
    assert ds == Dataset.from_records([{"messages": [{"role": "user", "content": "hi"}]}])


def test_messages_with_null_content_keep_canonical_type() -> None:
    ds = Dataset.from_records([{"messages": [{"role": "assistant", "content": None}]}])
    assert ds.to_arrow().schema.field("messages").type == MESSAGES_TYPE


def test_messages_with_other_keys_are_left_alone() -> None:
    ds = Dataset.from_records([{"messages": [{"role": "user", "content": "hi", "name": "x"}]}])
    assert ds.to_arrow().schema.field("messages").type != MESSAGES_TYPE
    assert ds[0]["messages"][0]["name"] == "x"


def test_extra_columns_are_kept_including_keys_first_seen_in_later_rows() -> None:
    ds = Dataset.from_records([chat("a", "b", split="train"), chat("c", "d", weight=0.5)])
    assert ds.columns == ["messages", "split", "weight"]
    assert ds[1]["weight"] == 0.5


# --- access ----------------------------------------------------------------------------------


def test_iteration_yields_dicts_in_order() -> None:
    rows = list(Dataset.from_records(RECORDS))
    assert all(isinstance(r, dict) for r in rows)
    assert [r["id"] for r in rows] == [1, 2, 3]


def test_getitem_supports_negative_indexes() -> None:
    ds = Dataset.from_records(RECORDS)
    assert ds[-1]["id"] == 3
    assert ds[0]["messages"][1] == {"role": "assistant", "content": "hello"}


def test_getitem_out_of_range_raises_index_error() -> None:
    ds = Dataset.from_records(RECORDS)
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(IndexError):
        ds[-4]


def test_to_pandas_shape() -> None:
    df = Dataset.from_records(RECORDS).to_pandas()
    assert df.shape == (3, 2)
    assert list(df.columns) == ["messages", "id"]


def test_repr_names_rows_and_columns() -> None:
    assert repr(Dataset.from_records(RECORDS)) == "Dataset(3 rows, columns=[messages, id])"


def test_to_parquet_bytes_is_deterministic_and_reads_back_equal() -> None:
    ds = Dataset.from_records(RECORDS)
    first, second = ds.to_parquet_bytes(), ds.to_parquet_bytes()
    assert first == second
    assert Dataset.from_records(RECORDS).to_parquet_bytes() == first
    back = Dataset.from_parquet(first)
    assert back == ds
    assert back.to_arrow().equals(ds.to_arrow())


# --- errors ----------------------------------------------------------------------------------


def test_malformed_jsonl_line_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2,\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"bad\.jsonl:3: invalid JSON") as err:
        Dataset.from_jsonl(path)
    assert str(path) in str(err.value)


def test_jsonl_line_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "list.jsonl", [{"a": 1}])
    path.write_text(path.read_text() + "[1, 2]\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"list\.jsonl:2: invalid JSON: expected an object"):
        Dataset.from_jsonl(path)


def test_jsonl_nan_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "nan.jsonl"
    path.write_text('{"x": NaN}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"nan\.jsonl:1: invalid JSON: NaN"):
        Dataset.from_jsonl(path)


def test_non_utf8_jsonl_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"a": "café"}\n'.encode("latin-1"))
    with pytest.raises(UserError, match=r"latin1\.jsonl:1: not valid UTF-8"):
        Dataset.from_jsonl(path)


def test_missing_jsonl_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.jsonl"):
        Dataset.from_jsonl(tmp_path / "nope.jsonl")


def test_corrupt_parquet_error_names_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(UserError, match=r"corrupt\.parquet"):
        Dataset.from_parquet(path)


def test_empty_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no \\*\\.jsonl or \\*\\.parquet"):
        Dataset.from_path(tmp_path)


def test_unknown_suffix_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n")
    with pytest.raises(UserError, match=r"data\.csv: unknown dataset suffix"):
        Dataset.from_path(path)
