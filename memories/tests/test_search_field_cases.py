"""Field cases for memory search: public reports from other memory projects whose
full-text search missed CJK text or broke on punctuation, reduced to their inputs and
tried on Luma (both databases). The value asserted is what a person would expect."""

import pytest

from memories.models import Memory
from memories.search_index import lexical_search
from memories.services import memory_create

pytestmark = pytest.mark.django_db

CASES = [
    # chandra447/pi-hermes-memory#174: CJK beside English tokens; 2- and 4-character queries.
    ("设备清单(devices) 有 NAS 和 cdm-xxc 两台", ["设备", "设备清单", "NAS", "cdm-xxc"]),
    # tommy0103/obelisk#9: identifiers glued to CJK, and a CJK phrase inside a run.
    ("步2 重跑gen-itgc后50条悬空引用清零，修复已验证", ["悬空", "itgc", "修复"]),  # noqa: RUF001
    # openclaw/openclaw#20730: Japanese, Korean and Chinese words inside a sentence.
    ("今日は成語しりとりをした", ["しりとり"]),
    ("오늘 끝말잇기 게임을 했다", ["끝말잇기"]),
    ("今天玩成语接龙游戏", ["成语接龙"]),
    # Martian-Engineering/lossless-claw#125: two-character Chinese words.
    ("飞书上的播客静默了三天", ["静默", "播客", "飞书"]),
    # thedotmack/claude-mem#3801: a quoted phrase.
    ("新的用户身份验证流程", ['"用户身份"']),
]
DISTRACTORS = ["Kai likes rhythm games.", "我们每周六玩马里奥。", "私の犬はポチです。"]


def found(query: str) -> list[str]:
    hits = lexical_search(Memory.objects.all(), query, limit=5)
    contents = Memory.objects.in_bulk([pk for pk, _ in hits])
    return [contents[pk].content for pk, _ in hits]


@pytest.mark.parametrize(("content", "queries"), CASES, ids=[c[1][0] for c in CASES])
def test_each_reported_query_finds_its_memory_first(lexical_only, content, queries):
    for text in DISTRACTORS:
        memory_create(content=text)
    memory_create(content=content)
    for query in queries:
        assert found(query)[:1] == [content], query


@pytest.mark.parametrize("query", ["what? is #1; a/b", "kai!!", 'say "hi', "(games) OR -x", "* ^"])
def test_punctuation_in_a_query_never_breaks_the_search(lexical_only, query):
    # yusheng-g/openagent-go#4: "? ! . , ; / #" raised an FTS5 syntax error.
    memory_create(content="Kai likes rhythm games.")
    found(query)  # no exception; what it finds depends on the words
    assert found("games?!") == ["Kai likes rhythm games."]
