import pytest

from feedsvc.refresh import guard


def test_no_posts_is_never_believed() -> None:
    assert "no posts" in (guard.problem(0, []) or "")


def test_too_little_history_believes_any_count() -> None:
    assert guard.problem(1, [8, 8]) is None
    assert guard.usual([8, 8]) is None


@pytest.mark.parametrize(("seen", "recent"), [(3, [8, 8, 8]), (1, [8, 7, 9, 8]), (2, [10, 10, 1])])
def test_far_fewer_than_usual_is_refused_in_plain_words(seen: int, recent: list[int]) -> None:
    words = guard.problem(seen, recent)
    assert words is not None
    assert f"shows {seen} post" in words and "usually" in words and "nothing was stored" in words


@pytest.mark.parametrize(("seen", "recent"), [(4, [8, 8, 8]), (8, [8, 8, 8]), (20, [8, 8, 8]), (2, [8, 2, 2])])
def test_a_usual_or_larger_page_passes(seen: int, recent: list[int]) -> None:
    assert guard.problem(seen, recent) is None


def test_a_lasting_smaller_page_becomes_the_usual() -> None:
    recent = [8, 8, 8, 8, 8]
    refused = 0
    for _ in range(5):
        if guard.problem(2, recent) is not None:
            refused += 1
        recent = [*recent, 2][-5:]  # the store remembers every page read, refused ones too
    assert 0 < refused < 5
    assert guard.problem(2, recent) is None
