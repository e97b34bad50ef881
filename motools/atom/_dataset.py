"""`Dataset`: an Arrow-backed table of sample dicts, with a digest that ignores its storage form."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from motools._errors import UserError
from motools._hashing import RECORDS_TAG, canonical_json

if TYPE_CHECKING:
    import pandas

MESSAGES_TYPE = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
_STRINGISH = (pa.string(), pa.large_string(), pa.null())


def _is_chat_messages(t: pa.DataType) -> bool:
    """True for list<struct<role, content>> in any field order with string or null fields."""
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
        return False
    item = t.value_type
    if pa.types.is_null(item):  # only empty lists (or null messages): nothing contradicts chat
        return True
    if not pa.types.is_struct(item):
        return False
    fields = {item.field(i).name: item.field(i).type for i in range(item.num_fields)}
    return set(fields) == {"role", "content"} and all(v in _STRINGISH for v in fields.values())


def _normalise(table: pa.Table) -> pa.Table:
    """Give a chat `messages` column the one canonical type, whatever form it was read from."""
    i = table.schema.get_field_index("messages")  # -1 when absent (or, oddly, duplicated)
    if i < 0:
        return table
    t = table.schema.field(i).type
    if t == MESSAGES_TYPE or not _is_chat_messages(t):
        return table
    column = table.column(i).cast(MESSAGES_TYPE)
    return table.set_column(i, pa.field("messages", MESSAGES_TYPE), column)


def _table_from_rows(rows: list[dict[str, Any]], source: str) -> pa.Table:
    # Union of keys in first-seen order: pa.Table.from_pylist would keep only the first row's keys.
    names = list(dict.fromkeys(k for row in rows for k in row))
    try:
        return pa.Table.from_pydict({k: [row.get(k) for row in rows] for k in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise UserError(f"{source}: cannot build a table: {e}") from None


def _drop_nulls(value: Any) -> Any:
    """Remove None-valued keys at every depth, so a missing key and an explicit null are equal."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        f = path.open("rb")
    except OSError as e:
        raise UserError(f"{path}: cannot read JSONL file: {e.strerror or e}") from None
    with f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise UserError(f"{path}:{lineno}: not valid UTF-8 ({e.reason})") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_constant=_reject_constant)
            except ValueError as e:  # JSONDecodeError, or NaN/Infinity, which no digest accepts
                why = f"{e.msg} (column {e.colno})" if isinstance(e, json.JSONDecodeError) else e
                raise UserError(f"{path}:{lineno}: invalid JSON: {why}") from None
            if not isinstance(obj, dict):
                kind = type(obj).__name__
                raise UserError(f"{path}:{lineno}: invalid JSON: expected an object, got {kind}")
            rows.append(obj)
    return rows


class Dataset:
    """Arrow-backed dataset of sample dicts (chat samples have `messages`: list of {role, content}).

    The table is immutable, so a Dataset is too; equality is equality of `content_digest()`.
    """

    def __init__(self, table: pa.Table) -> None:
        """Wrap a table, normalising a chat `messages` column to `MESSAGES_TYPE`.

        Args:
            table: Any Arrow table; extra columns are kept as they are.
        """
        if not isinstance(table, pa.Table):
            raise TypeError(f"Dataset needs a pyarrow.Table, got {type(table).__name__}")
        self._table = _normalise(table)
        self._digest: str | None = None

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Dataset:
        """Build from sample mappings; keys missing from some records become nulls there."""
        return cls(_table_from_rows([dict(r) for r in records], "records"))

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str]) -> Dataset:
        """Read a JSONL file: one JSON object per line, blank lines skipped.

        Raises:
            UserError: The file is missing, not UTF-8, or a line is not a JSON object
                (the message names the file and line number).
        """
        path = Path(path)
        return cls(_table_from_rows(_read_jsonl(path), str(path)))

    @classmethod
    def from_parquet(cls, path_or_buffer: str | Path | bytes | pa.Buffer) -> Dataset:
        """Read a Parquet file from a path, `bytes`, or a pyarrow buffer.

        Raises:
            UserError: The file is missing or is not valid Parquet.
        """
        if isinstance(path_or_buffer, (bytes, bytearray, memoryview, pa.Buffer)):
            name, source = "<parquet bytes>", pa.BufferReader(path_or_buffer)
        else:
            name = source = str(path_or_buffer)
        try:
            return cls(pq.read_table(source))
        except FileNotFoundError:
            raise UserError(f"{name}: Parquet file not found") from None
        except (pa.ArrowInvalid, OSError) as e:
            raise UserError(f"{name}: not a readable Parquet file: {e}") from None

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Dataset:
        """Read a `.jsonl` or `.parquet` file, or a folder of them.

        A folder contributes every `*.jsonl` and `*.parquet` file directly inside it, sorted by
        file name and concatenated in that order.

        Raises:
            UserError: The path is missing, has an unknown suffix, or is a folder without parts.
        """
        path = Path(path)
        if path.is_dir():
            parts = sorted(
                (p for p in path.iterdir() if p.is_file() and p.suffix in (".jsonl", ".parquet")),
                key=lambda p: p.name,
            )
            if not parts:
                raise UserError(f"{path}: folder holds no *.jsonl or *.parquet files")
            tables = [cls._from_file(p).to_arrow() for p in parts]
            try:
                # permissive: a part whose column is all ints must join one with floats, as
                # from_records of the same rows would have inferred double for the whole column.
                return cls(pa.concat_tables(tables, promote_options="permissive"))
            except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
                raise UserError(f"{path}: part files have incompatible schemas: {e}") from None
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
        return cls._from_file(path)

    @classmethod
    def _from_file(cls, path: Path) -> Dataset:
        if path.suffix == ".jsonl":
            return cls.from_jsonl(path)
        if path.suffix == ".parquet":
            return cls.from_parquet(path)
        raise UserError(f"{path}: unknown dataset suffix {path.suffix!r}; use .jsonl or .parquet")

    def __len__(self) -> int:
        rows: int = self._table.num_rows
        return rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Yield each row as a dict (Arrow-normalised: absent fields appear as None)."""
        for batch in self._table.to_batches():
            yield from batch.to_pylist()

    def __getitem__(self, i: int) -> dict[str, Any]:
        """Return row `i`; negative indexes count from the end.

        Raises:
            IndexError: `i` is out of range.
        """
        n = len(self)
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise IndexError(f"Dataset index {i} out of range for {n} rows")
        row: dict[str, Any] = self._table.slice(j, 1).to_pylist()[0]
        return row

    def __repr__(self) -> str:
        return f"Dataset({len(self)} rows, columns=[{', '.join(self.columns)}])"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return self.content_digest() == other.content_digest()

    @property
    def columns(self) -> list[str]:
        """Column names in table order."""
        return list(self._table.column_names)

    def to_arrow(self) -> pa.Table:
        """The underlying (immutable) Arrow table."""
        return self._table

    def to_pandas(self) -> pandas.DataFrame:
        """A pandas DataFrame with one row per sample."""
        import pandas  # noqa: F401  # here, not at the top: slow to load, rarely needed

        return self._table.to_pandas()

    def to_records(self) -> list[dict[str, Any]]:
        """All rows as a list of dicts (see `__iter__`)."""
        records: list[dict[str, Any]] = self._table.to_pylist()
        return records

    def to_jsonl(self, path: str | Path) -> Path:
        """Write one JSON object per row (UTF-8, non-ASCII kept as is) and return the path."""
        path = Path(path)
        with path.open("w", encoding="utf-8", newline="\n") as f:
            for row in self:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return path

    def to_parquet_bytes(self) -> bytes:
        """Parquet bytes (zstd, no statistics): the same table gives the same bytes per pyarrow."""
        sink = pa.BufferOutputStream()
        pq.write_table(self._table, sink, compression="zstd", write_statistics=False)
        data: bytes = sink.getvalue().to_pybytes()
        return data

    def content_digest(self) -> str:
        """Hex digest of the rows, independent of how they were stored.

        Equals `digest(RECORDS_TAG, rows)`, i.e. sha256 over the pre-image
        `b"motools.records.v1\\n[" + b",".join(canonical_json(r) for r in rows) + b"]"`, where
        `rows` are the Arrow-normalised rows in order with None-valued keys removed at every depth.
        It is computed row by row, never holding the whole list.
        """
        if self._digest is None:
            h = hashlib.sha256(RECORDS_TAG.encode("ascii") + b"\n[")
            for n, row in enumerate(self):
                h.update((b"," if n else b"") + canonical_json(_drop_nulls(row)))
            h.update(b"]")
            self._digest = h.hexdigest()
        return self._digest
