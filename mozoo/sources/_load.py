"""Published files as motools Datasets: read, then subsample deterministically."""

from __future__ import annotations

import os
import random

from motools.atom import Dataset
from motools.errors import UserError
from mozoo.sources._fetch import fetch
from mozoo.sources._kinds import Source


def subsample(dataset: Dataset, sample_size: int | None, seed: int = 0) -> Dataset:
    """`sample_size` rows drawn by `seed`, kept in their original order; all rows for None.

    Args:
        dataset: The rows to draw from.
        sample_size: How many rows; None keeps them all.
        seed: Picks the rows: the same dataset, size and seed always give the same rows.

    Raises:
        UserError: `sample_size` is below 1 or above the number of rows.
    """
    if sample_size is None:
        return dataset
    n = len(dataset)
    if not 1 <= sample_size <= n:
        raise UserError(f"sample_size must be between 1 and the {n} rows, got {sample_size}")
    indices = sorted(random.Random(seed).sample(range(n), sample_size))
    return Dataset(dataset.to_arrow().take(indices))


def load_dataset(
    source: Source,
    *,
    local_path: str | os.PathLike[str] | None = None,
    mirror: str | os.PathLike[str] | None = None,
    sample_size: int | None = None,
    seed: int = 0,
) -> Dataset:
    """The source's JSONL or Parquet file as a Dataset, subsampled by `sample_size` and `seed`.

    The Dataset holds only the file's rows, so its atom's identity is the content: the same bytes
    from a download, a mirror or a local copy give the same atom.

    Args:
        source: Where the file is published (its name must end in `.jsonl` or `.parquet`).
        local_path: A copy of the file (see `fetch`).
        mirror: A folder of copies (see `fetch`).
        sample_size: Rows to keep (None: all).
        seed: Which rows `sample_size` keeps.

    Raises:
        SourceUnavailableError: No copy and no download (see `fetch`).
        UserError: The file is not valid JSONL or Parquet, or `sample_size` is out of range.
    """
    return subsample(Dataset.from_path(fetch(source, local_path=local_path, mirror=mirror)),
                     sample_size, seed)
