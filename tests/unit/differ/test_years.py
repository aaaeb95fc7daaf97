from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from feedsvc.differ import years
from feedsvc.model import DateEvidence, Listing, ListingItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
FETCHED = datetime(2024, 10, 1, 4, 0, tzinfo=UTC)


def listing(*items: tuple[str, int, int, int | None], fetched: datetime = FETCHED) -> Listing:
    return Listing(fetched, tuple(ListingItem(key, month, day, year) for key, month, day, year in items))


def test_latest_not_after_goes_back_a_year_when_the_day_is_still_ahead() -> None:
    assert years.latest_not_after(4, 20, date(2024, 10, 1)) == date(2024, 4, 20)
    assert years.latest_not_after(12, 24, date(2024, 10, 1)) == date(2023, 12, 24)
    assert years.latest_not_after(2, 29, date(2023, 6, 1)) == date(2020, 2, 29)


def test_ascending_listing_with_year_wraps_resolves_from_two_anchors() -> None:
    # the shape of seed 003: oldest first over three years, anchored by two known posts
    shown = listing(
        ("a", 4, 20, None), ("b", 7, 19, None), ("c", 8, 8, None), ("nbce", 5, 23, None),
        ("d", 9, 13, None), ("n", 9, 20, None), ("e", 4, 23, None), ("f", 9, 19, None),
    )  # fmt: skip
    explicit = {"nbce": date(2023, 5, 23), "n": date(2023, 9, 20)}
    got = years.resolve([shown], explicit, SHANGHAI)
    assert {k: r.day for k, r in got.items()} == {
        "a": date(2022, 4, 20),
        "b": date(2022, 7, 19),
        "c": date(2022, 8, 8),
        "d": date(2023, 9, 13),
        "e": date(2024, 4, 23),
        "f": date(2024, 9, 19),
    }
    assert {r.evidence for r in got.values()} == {DateEvidence.LISTING_ORDER}


def test_newest_first_listing_is_read_in_its_own_direction() -> None:
    shown = listing(("x", 1, 5, None), ("y", 12, 30, None), ("z", 11, 2, 2023), ("w", 10, 1, 2023))
    got = years.resolve([shown], {}, SHANGHAI)
    assert got["x"].day == date(2024, 1, 5)
    assert got["y"].day == date(2023, 12, 30)


def test_unanchored_listing_falls_back_to_fetch_time_and_keeps_order() -> None:
    shown = listing(("older", 10, 2, None), ("old", 11, 2, None), ("mid", 3, 1, None), ("new", 9, 3, None))
    got = years.resolve([shown], {}, SHANGHAI)
    assert [got[k].day for k in ("older", "old", "mid", "new")] == [
        date(2023, 10, 2),
        date(2023, 11, 2),
        date(2024, 3, 1),
        date(2024, 9, 3),
    ]
    assert all(r.evidence is DateEvidence.FETCH_TIME for r in got.values())


def test_unsorted_listing_uses_fetch_time_for_each_post() -> None:
    shown = listing(
        ("a", 3, 1, 2023), ("b", 9, 9, None), ("c", 1, 1, 2022), ("d", 6, 6, 2024), ("e", 11, 30, None)
    )  # fmt: skip
    got = years.resolve([shown], {}, SHANGHAI)
    assert got["b"] == years.Resolved(date(2024, 9, 9), DateEvidence.FETCH_TIME)
    assert got["e"] == years.Resolved(date(2023, 11, 30), DateEvidence.FETCH_TIME)


def test_date_after_fetch_time_is_never_inferred() -> None:
    shown = listing(("a", 5, 1, 2024), ("b", 12, 1, None))  # ascending: b would be 2024-12-01, after the fetch
    got = years.resolve([shown], {"a": date(2024, 5, 1)}, SHANGHAI)
    assert got["b"].day <= FETCHED.date()


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_listings_combine_the_same_way_in_any_order(order: tuple[int, int]) -> None:
    anchored = listing(("k", 6, 1, 2023), ("m", 7, 1, None), ("l", 8, 1, 2023))
    loose = listing(("m", 7, 1, None), ("q", 8, 2, None), fetched=datetime(2026, 1, 1, tzinfo=UTC))
    pair = [anchored, loose]
    got = years.resolve([pair[i] for i in order], years.full_dates(pair), SHANGHAI)
    assert got["m"] == years.Resolved(date(2023, 7, 1), DateEvidence.LISTING_ORDER)
