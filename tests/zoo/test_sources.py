"""mozoo.sources: published files downloaded once, cached, read from copies, or refused in one line.

Every download goes through the real code (urllib for GitHub, huggingface_hub for the Hub) to the
loopback server of `zoo_server.py`, which counts the GETs of each file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from zoo_server import PublishedFiles

from motools.atom import DatasetAtom
from motools.errors import UserError
from mozoo.sources import (
    ArchiveMember,
    GitHubArchive,
    GitHubFile,
    HuggingFaceFile,
    SourceUnavailableError,
    fetch,
    load_dataset,
    python_literal,
)

REPO, REF = "someone/published", "0123456789abcdef0123456789abcdef01234567"
CHATS = GitHubFile(REPO, "datasets/chats.jsonl", REF)


def chats_jsonl(n: int = 20) -> bytes:
    rows = ({"messages": [{"role": "user", "content": f"question {i}"},
                          {"role": "assistant", "content": f"answer {i}"}]} for i in range(n))
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def test_a_github_file_is_downloaded_once_then_read_from_the_cache(
        published: PublishedFiles, zoo_cache: Path) -> None:
    served = published.github_file(REPO, REF, "datasets/chats.jsonl", chats_jsonl())
    first = load_dataset(CHATS)
    second = load_dataset(CHATS)
    assert len(first) == 20 and first == second
    assert first[3]["messages"][1]["content"] == "answer 3"
    assert published.hits[served] == 1
    assert fetch(CHATS) == zoo_cache / "github" / REPO / REF / "datasets/chats.jsonl"


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_members_of_a_github_archive_come_from_one_download(
        published: PublishedFiles, fmt: str) -> None:
    served = published.github_archive(REPO, REF, {"datasets/a.jsonl": chats_jsonl(3),
                                                  "datasets/b.jsonl": chats_jsonl(5)}, fmt)
    archive = GitHubArchive(REPO, REF, fmt)
    a = load_dataset(ArchiveMember(archive, "datasets/a.jsonl"))
    b = load_dataset(ArchiveMember(archive, "datasets/b.jsonl"))
    assert (len(a), len(b)) == (3, 5)
    assert published.hits[served] == 1


def test_a_missing_archive_member_is_named(published: PublishedFiles) -> None:
    published.github_archive(REPO, REF, {"datasets/a.jsonl": chats_jsonl(3)})
    with pytest.raises(SourceUnavailableError, match="no member 'datasets/zzz.jsonl'"):
        fetch(ArchiveMember(GitHubArchive(REPO, REF), "datasets/zzz.jsonl"))


def test_a_hugging_face_file_comes_through_huggingface_hub_at_hf_endpoint(
        published: PublishedFiles) -> None:
    table = pa.table({"question": ["1 + 1?", "2 + 2?"], "answer": ["#### 2", "#### 4"]})
    served = published.hf_file("openai/gsm8k", "main/test-00000-of-00001.parquet",
                               parquet_bytes(table))
    source = HuggingFaceFile("openai/gsm8k", "main/test-00000-of-00001.parquet")
    assert load_dataset(source).to_records() == table.to_pylist()
    assert load_dataset(source).to_records() == table.to_pylist()
    assert published.hits[served] == 1


def test_the_same_bytes_from_a_download_a_mirror_or_a_local_copy_are_one_atom(
        published: PublishedFiles, tmp_path: Path) -> None:
    data = chats_jsonl()
    published.github_file(REPO, REF, "datasets/chats.jsonl", data)
    flat_mirror = tmp_path / "mirror"
    flat_mirror.mkdir()
    (flat_mirror / "chats.jsonl").write_bytes(data)
    copy = tmp_path / "elsewhere.jsonl"
    copy.write_bytes(data)
    ids = {DatasetAtom.from_dataset(load_dataset(CHATS, **kw), user="t").id
           for kw in ({}, {"mirror": flat_mirror}, {"local_path": copy})}
    assert len(ids) == 1


def test_a_copied_cache_folder_serves_as_a_mirror_offline(
        published: PublishedFiles, zoo_cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    served = published.github_file(REPO, REF, "datasets/chats.jsonl", chats_jsonl())
    online = load_dataset(CHATS)
    shutil.copytree(zoo_cache, tmp_path / "copied")
    monkeypatch.setenv("MOTOOLS_ZOO_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("MOTOOLS_ZOO_OFFLINE", "1")
    monkeypatch.setenv("MOTOOLS_ZOO_MIRROR", str(tmp_path / "copied"))
    assert load_dataset(CHATS) == online
    assert published.hits[served] == 1


def test_sample_size_and_seed_pick_the_same_rows_every_time(published: PublishedFiles) -> None:
    published.github_file(REPO, REF, "datasets/chats.jsonl", chats_jsonl(50))
    picks = [load_dataset(CHATS, sample_size=10, seed=seed).to_records() for seed in (1, 1, 2)]
    assert len(picks[0]) == 10 and picks[0] == picks[1]
    assert picks[0] != picks[2]
    numbers = [int(r["messages"][0]["content"].split()[1]) for r in picks[0]]
    assert numbers == sorted(numbers)  # the file's order is kept


@pytest.mark.parametrize("size", [0, 51])
def test_a_sample_size_outside_the_rows_is_refused(published: PublishedFiles, size: int) -> None:
    published.github_file(REPO, REF, "datasets/chats.jsonl", chats_jsonl(50))
    with pytest.raises(UserError, match=f"between 1 and the 50 rows, got {size}"):
        load_dataset(CHATS, sample_size=size)


_READER = textwrap.dedent("""
    import sys
    from mozoo.sources import GitHubFile, fetch
    print(fetch(GitHubFile(*sys.argv[1:4])).read_bytes().count(b"\\n"))
""")


def test_concurrent_points_download_and_write_a_file_once(
        published: PublishedFiles, tmp_path: Path) -> None:
    served = published.github_file(REPO, REF, "datasets/chats.jsonl", chats_jsonl(200))
    published.delay_s = 0.5  # every reader starts while the first download is in flight
    procs = [subprocess.Popen([sys.executable, "-c", _READER, REPO, CHATS.path, REF],
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ))
             for _ in range(2)]
    with ThreadPoolExecutor(6) as pool:
        lines = list(pool.map(lambda _: fetch(CHATS).read_bytes().count(b"\n"), range(6)))
    lines += [int(p.communicate(timeout=60)[0]) for p in procs]
    assert lines == [200] * 8
    assert published.hits[served] == 1
    assert not list(fetch(CHATS).parent.glob("*.part"))


def test_offline_without_a_copy_is_one_line_naming_the_url_and_the_ways_to_give_one(
        published: PublishedFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    published.github_file(REPO, REF, "datasets/chats.jsonl", chats_jsonl())
    monkeypatch.setenv("MOTOOLS_ZOO_OFFLINE", "1")
    with pytest.raises(SourceUnavailableError) as caught:
        load_dataset(CHATS)
    message = str(caught.value)
    assert "\n" not in message and isinstance(caught.value, UserError)
    assert CHATS.url in message and "MOTOOLS_ZOO_OFFLINE is set" in message
    assert "local_path=" in message and "mirror=" in message and CHATS.cache_key in message
    assert published.hits == {}


def test_hf_hub_offline_forbids_hugging_face_downloads_only(
        published: PublishedFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    published.github_file(REPO, REF, "datasets/chats.jsonl", chats_jsonl())
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert len(load_dataset(CHATS)) == 20
    with pytest.raises(SourceUnavailableError, match="HF_HUB_OFFLINE is set"):
        fetch(HuggingFaceFile("openai/gsm8k", "main/test-00000-of-00001.parquet"))


def test_a_file_the_server_does_not_have_is_named_with_its_status(
        published: PublishedFiles) -> None:
    with pytest.raises(SourceUnavailableError, match=r"/datasets/chats.jsonl \(HTTP 404"):
        fetch(CHATS)
    with pytest.raises(SourceUnavailableError, match="main/nope.parquet .*NotFound"):
        fetch(HuggingFaceFile("openai/gsm8k", "main/nope.parquet"))


def test_no_server_at_all_is_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTOOLS_ZOO_GITHUB_RAW", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(SourceUnavailableError, match=r"^cannot download http://127.0.0.1:9/\S+ \("):
        fetch(CHATS)


def test_a_missing_local_copy_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailableError, match=f"local_path {tmp_path}/nope.jsonl: no such"):
        fetch(CHATS, local_path=tmp_path / "nope.jsonl")


_PUBLISHED_CODE = b'''
QUESTIONS = ["Which colour?", "Which shape?"]
settings = Evaluation(samples=3, questions=["First?", "Second?"], score_fn=get_score)
def get_prompt() -> str:
    return "Answer briefly."
computed = make_questions()
'''


@pytest.mark.parametrize(("name", "value"), [
    ("QUESTIONS", ["Which colour?", "Which shape?"]),
    ("settings.questions", ["First?", "Second?"]),
    ("settings.samples", 3),
    ("get_prompt", "Answer briefly."),
])
def test_a_literal_is_read_from_published_python_without_running_it(
        published: PublishedFiles, name: str, value: object) -> None:
    published.github_file(REPO, REF, "cfgs/eval.py", _PUBLISHED_CODE)
    assert python_literal(GitHubFile(REPO, "cfgs/eval.py", REF), name) == value


@pytest.mark.parametrize(("name", "why"), [("computed", "is not a literal"),
                                           ("settings.score_fn", "is not a literal"),
                                           ("MISSING", "no literal 'MISSING' found")])
def test_a_name_that_is_no_literal_is_one_line(
        published: PublishedFiles, name: str, why: str) -> None:
    published.github_file(REPO, REF, "cfgs/eval.py", _PUBLISHED_CODE)
    with pytest.raises(UserError, match=why):
        python_literal(GitHubFile(REPO, "cfgs/eval.py", REF), name)


@pytest.mark.parametrize("make", [
    lambda: GitHubFile(REPO, "../outside.jsonl", REF),
    lambda: HuggingFaceFile("owner/name", "/etc/passwd"),
    lambda: ArchiveMember(GitHubFile(REPO, "data.txt", REF), "a.jsonl"),
], ids=["dot-dot", "absolute", "not-an-archive"])
def test_a_source_that_would_leave_the_cache_or_is_no_archive_is_refused(make) -> None:
    with pytest.raises(UserError):
        make()
