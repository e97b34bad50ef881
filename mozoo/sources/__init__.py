"""Published files as zoo data: fetched from their public source once, cached, or read from a copy.

A *source* says where a file is published: `GitHubFile` (a raw file at a ref), `GitHubArchive` (a
repository's `.zip`/`.tar.gz`) with `ArchiveMember` (one file inside any archive source), and
`HuggingFaceFile` (through `huggingface_hub`, honouring `HF_ENDPOINT`). `fetch` returns a local
path: a given copy (`local_path`), a mirror folder (`mirror`, `MOTOOLS_ZOO_MIRROR`), the cache
(`MOTOOLS_ZOO_CACHE`), or one download into the cache, atomic and under a file lock so concurrent
sweep points never download or write a file twice. Without network and copy, it raises
`SourceUnavailableError` (a `UserError`: exit 2), one line naming the URL and how to give a copy.
`load_dataset` reads a JSONL/Parquet source into a `Dataset` whose identity is its rows, with
deterministic `sample_size`/`seed` subsampling; `python_literal` reads a value (evaluation
questions, a system prompt) from a published Python file without executing it.

Example:
    >>> from mozoo.sources import GitHubFile, load_dataset
    >>> src = GitHubFile("owner/repo", "data/train.jsonl", ref="0123abcd...")
    >>> load_dataset(src, sample_size=100, seed=0)                  # downloads once, then cached
    >>> load_dataset(src, mirror="/shared/zoo-mirror")              # air-gapped: a copied cache
"""

from mozoo.sources._errors import SourceUnavailableError
from mozoo.sources._fetch import cache_root, fetch
from mozoo.sources._kinds import ArchiveMember, GitHubArchive, GitHubFile, HuggingFaceFile, Source
from mozoo.sources._literal import python_literal
from mozoo.sources._load import load_dataset, subsample

__all__ = [
    "ArchiveMember",
    "GitHubArchive",
    "GitHubFile",
    "HuggingFaceFile",
    "Source",
    "SourceUnavailableError",
    "cache_root",
    "fetch",
    "load_dataset",
    "python_literal",
    "subsample",
]
