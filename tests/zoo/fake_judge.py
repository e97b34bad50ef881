"""A fake OpenAI judge on loopback for the judged organisms' tests (`openai_fake.py`).

`judge` is the server's state, cleared for each test; its `judge_replies` map a key found in the
judge's prompt to the first token's top `(token, logprob)` pairs. One server per test module:
inspect memoizes `openai/` models it evaluates with the base URL they were first made with, so a
server per test would leave them calling a closed port. A test module loads both fixtures with
`pytest_plugins = ["fake_judge"]`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from openai_fake import FakeOpenAI, fake_openai

FAKE_KEY = "sk-test-fake-openai-key-0123456789"
JUDGE = "openai/gpt-4o-2024-08-06"


@pytest.fixture(scope="module")
def judge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeOpenAI]:
    """The fake OpenAI, with this process's SDK and inspect-ai pointed at it for the module."""
    with fake_openai(FAKE_KEY) as (state, url), pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_API_KEY", FAKE_KEY)
        patch.setenv("OPENAI_BASE_URL", url)
        patch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path_factory.mktemp("tiktoken")))
        for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                      "all_proxy"):
            patch.delenv(proxy, raising=False)
        yield state


@pytest.fixture
def judge(judge_server: FakeOpenAI) -> FakeOpenAI:
    """The module's fake OpenAI, with no judge replies and no requests yet."""
    judge_server.judge_replies.clear()
    judge_server.judge_requests.clear()
    judge_server.chat_models.clear()
    return judge_server


def says(number: int) -> list[tuple[str, float]]:
    """A judge certain of one number."""
    return [(str(number), math.log(1.0))]
