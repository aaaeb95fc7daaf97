"""filters: include and exclude patterns, any case, over every field or one named field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedsvc import filters
from feedsvc.model import Entry

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def entry(
    identity: str, title: str, summary: str = "", author: str | None = None, categories: tuple[str, ...] = ()
) -> Entry:
    return Entry(
        source="blog",
        identity=identity,
        title=title,
        summary=summary,
        first_seen=T0,
        updated=T0,
        author=author,
        categories=categories,
    )


A = entry("a", "Attention is all you need", "A transformer paper.", "Vaswani", ("ml",))
B = Entry(
    "blog",
    "b",
    "Sponsored: buy our GPU",
    "<p>An <b>advert</b></p>",
    T0,
    T0,
    author="Marketing",
    categories=("ads",),
    summary_html=True,
)
C = entry("c", "Diffusion models", "Score matching, explained.", "Song", ("ml", "generative"))


def test_no_filter_keeps_everything_in_order() -> None:
    assert filters.kept((), (), [A, B, C]) == [A, B, C]


def test_exclude_hides_what_matches_in_any_field_and_any_case() -> None:
    assert filters.kept((), ("SPONSORED",), [A, B, C]) == [A, C]
    assert filters.kept((), ("advert",), [A, B, C]) == [A, C]  # the summary's text, tags aside
    assert filters.kept((), ("^ads$",), [A, B, C]) == [A, C]  # a category


def test_include_keeps_only_what_one_pattern_matches() -> None:
    assert filters.kept(("diffusion", "attention"), (), [A, B, C]) == [A, C]
    assert filters.kept(("categories:^generative$",), (), [A, B, C]) == [C]


def test_a_field_prefix_picks_one_field_and_any_other_word_is_part_of_the_pattern() -> None:
    assert filters.kept((), ("author:song",), [A, B, C]) == [A, B]
    assert filters.kept((), ("title:transformer",), [A, B, C]) == [A, B, C]  # only its summary says so
    assert filters.kept(("paper:",), (), [entry("d", "Paper: on feeds"), A]) == [entry("d", "Paper: on feeds")]


def test_include_and_exclude_together_and_what_each_hides() -> None:
    include, exclude = ("ml", "GPU"), ("sponsored", "author:song")
    assert filters.kept(include, exclude, [A, B, C]) == [A]
    hidden = {"include": 0, "exclude sponsored": 1, "exclude author:song": 1}
    assert filters.hidden(include, exclude, [A, B, C]) == hidden
    assert filters.hidden(("nothing matches this",), (), [A, B, C]) == {"include": 3}


@pytest.mark.parametrize(("text", "message"), [("(unclosed", "not a valid regular expression"), ("title:", "empty")])
def test_a_bad_pattern_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        filters.rule(text)
