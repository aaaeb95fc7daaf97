"""Replaying the real seeds through the real pipeline: local HTTP server, SQLite file, refresh.run."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from feedsvc import refresh
from feedsvc.config import Source
from feedsvc.model import DateEvidence, Entry
from feedsvc.store import Store
from tests.e2e.test_service import distinct_posts
from tests.support import SEEDS, snapshot_server

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")
ORDERS = {
    "file": [0, 1, 2, 3, 4],
    "reverse": [4, 3, 2, 1, 0],
    "shuffled": random.Random(7).sample(range(5), 5),
    "twice": [3, 0, 4, 1, 2, 2, 4, 0, 3, 1],
}

# Posts whose snapshots never show a year, with the dates the blog really published them
# (checked on the live blog): the service must reach these from the other snapshots alone.
TRUE_DATES = {
    "你的语言模型有没有“无法预测的词”?": "2022-04-20",
    "生成扩散模型漫谈(三):DDPM = 贝叶斯 + 去噪": "2022-07-19",
    "生成扩散模型漫谈(六):一般框架之ODE篇": "2022-08-08",
    "大词表语言模型在续写任务上的一个问题及对策": "2023-09-13",
    "Softmax后传:寻找Top-K的光滑近似": "2024-09-19",
    "随机分词浅探:从Viterbi Decoding到Viterbi Sampling": "2023-09-16",
    "EMO:基于最优传输思想设计的分类损失函数": "2023-10-13",
    "从梯度最大化看Attention的Scale操作": "2023-10-22",
}
UNTITLED_SKIP_TUNING_DATE = "2024-04-23"


def replay(tmp_path: Path, order: list[int]) -> list[Entry]:
    store = Store(f"sqlite:///{tmp_path / 'feedsvc.db'}")
    try:
        with snapshot_server() as site:
            source = Source(name="kexue", title="科学空间", url=site.url, timezone="Asia/Shanghai")
            for step, index in enumerate(order):
                site.serve(SEEDS[index].read_bytes())
                result = refresh.run(store, source, START + timedelta(hours=step))
                assert result.ok, result.error
        return store.entries("kexue", limit=1000)
    finally:
        store.close()


@pytest.fixture(scope="module")
def replays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Entry]]:
    return {name: replay(tmp_path_factory.mktemp(name), order) for name, order in ORDERS.items()}


def local_day(entry: Entry) -> str:
    assert entry.published is not None, entry.title
    return entry.published.astimezone(ZONE).date().isoformat()


@pytest.mark.parametrize("name", ORDERS)
def test_every_distinct_post_exactly_once(replays: dict[str, list[Entry]], name: str) -> None:
    entries = replays[name]
    assert len(entries) == len({e.identity for e in entries}) == len(distinct_posts())


def test_any_order_gives_the_same_entries_and_dates(replays: dict[str, list[Entry]]) -> None:
    def summary(entries: list[Entry]) -> set[tuple[str, str, str]]:
        return {(e.identity, e.title, local_day(e)) for e in entries}

    reference = summary(replays["file"])
    for name, entries in replays.items():
        assert summary(entries) == reference, name


@pytest.mark.parametrize("name", ORDERS)
def test_missing_years_are_resolved_to_the_real_dates(replays: dict[str, list[Entry]], name: str) -> None:
    by_title = {e.title: e for e in replays[name]}
    for title, day in TRUE_DATES.items():
        assert local_day(by_title[title]) == day, title
        assert by_title[title].date_evidence is DateEvidence.LISTING_ORDER
    (untitled,) = [e for e in replays[name] if e.title_derived]
    assert local_day(untitled) == UNTITLED_SKIP_TUNING_DATE
    assert untitled.title.startswith("如何减少采样步数")


def test_posts_shown_without_year_elsewhere_keep_their_shown_date(replays: dict[str, list[Entry]]) -> None:
    by_title = {e.title: e for e in replays["reverse"]}
    nbce = by_title["NBCE:使用朴素贝叶斯扩展LLM的Context处理长度"]
    assert local_day(nbce) == "2023-05-23" and not nbce.date_evidence.inferred  # type: ignore[union-attr]


def test_growing_reader_counts_change_nothing(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'feedsvc.db'}")
    with snapshot_server() as site:
        source = Source(name="kexue", title="科学空间", url=site.url, timezone="Asia/Shanghai")
        page = SEEDS[0].read_text(encoding="utf-8")
        site.serve(page.encode())
        first = refresh.run(store, source, START)
        version = store.version("kexue")
        grown = re.sub(r"(\d+)位读者", lambda m: f"{int(m[1]) * 3 + 7}位读者", page)
        assert grown != page
        site.serve(grown.encode())
        again = refresh.run(store, source, START + timedelta(hours=1))
    assert first.new == first.seen > 0
    assert (again.new, again.changed, again.seen) == (0, 0, first.seen)
    assert store.version("kexue") == version
    store.close()
