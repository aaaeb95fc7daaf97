"""reload.moved, reload.touched and reload.compare: what a new config changes, source by source."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from feedsvc.config import Settings, Source
from feedsvc.extract.selectors import Selectors
from feedsvc.refresh.reload import compare, moved, touched

A = Source(name="a", title="A", url="https://a.example/")
B = Source(name="b", title="B", url="https://b.example/")


def test_a_new_url_layout_or_selectors_moves_the_page_and_nothing_else_does() -> None:
    old = Settings(sources=(A, B))
    assert moved(old, old) == []
    assert moved(old, Settings(sources=(replace(A, url="https://a.example/new"), B))) == ["a"]
    assert moved(old, Settings(sources=(A, replace(B, layout="html_blocks")))) == ["b"]
    assert moved(old, Settings(sources=(replace(A, selectors=Selectors(item="li")), B))) == ["a"]
    longer = Settings(sources=(replace(A, interval=timedelta(hours=2), title="A!"), B))
    assert moved(old, longer) == []
    assert moved(old, Settings(sources=(A,))) == []  # removed: nothing to read
    assert moved(Settings(sources=(A,)), old) == []  # added: the scheduler reads it soon anyway


def test_compare_names_added_changed_removed_and_restart_only_settings() -> None:
    report = compare(Settings(sources=(A, B)), Settings(sources=(replace(A, title="A!"),), threads=2))
    assert (report.added, report.changed, report.removed) == ((), ("a",), ("b",))
    assert report.needs_restart == ("threads",)


def test_touched_names_every_source_added_removed_or_changed_in_any_setting() -> None:
    C = Source(name="c", title="C", url="https://c.example/")
    old = Settings(sources=(A, B, C))
    assert touched(old, old) == set()
    D = Source(name="d", title="D", url="https://d.example/")
    new = Settings(sources=(replace(A, interval=timedelta(hours=2)), C, D))
    assert touched(old, new) == {"a", "b", "d"}
