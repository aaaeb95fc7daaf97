from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from feedsvc import differ
from feedsvc.model import DateEvidence, Diff, Known, PageDate, Post

ZONE = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 10, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2024, 10, 2, 0, 0, tzinfo=UTC)


def post(
    title: str, month: int, day: int, year: int | None = None, summary: str = "正文第一段。", **kw: object
) -> Post:
    return Post(title=title, summary=summary, date=PageDate(month, day, year), **kw)  # type: ignore[arg-type]


def apply(known: Known, diff: Diff) -> Known:
    """What the store would hold after writing ``diff``."""
    entries = dict(known.entries)
    for entry in (*diff.new, *diff.changed):
        entries[entry.identity] = entry
    listings = (*known.listings, diff.listing) if diff.listing else known.listings
    return Known(entries, listings, known.tombstones)


def test_identity_ignores_width_case_and_white_space_but_not_the_day() -> None:
    a = post("Naive Bayes is all you need ?", 6, 8, 2023)
    b = post("Naive  Bayes is ALL you need ?", 6, 8)  # full-width letters, other spacing, no year
    assert differ.identity(a) == differ.identity(b)
    assert differ.identity(a) != differ.identity(post("Naive Bayes is all you need ?", 6, 9, 2023))


def test_identity_prefers_the_link_and_ignores_its_fragment() -> None:
    a = post("Old title", 1, 2, link="https://Example.org/p/1/#more")
    b = post("New title", 1, 2, link="https://example.org/p/1")
    assert differ.identity(a) == differ.identity(b)


def test_new_posts_get_first_seen_and_page_date_in_utc() -> None:
    d = differ.diff(Known(), [post("当生成模型肆虐", 7, 14, 2023)], seen_at=T0, zone=ZONE, source="s")
    (entry,) = d.new
    assert entry.first_seen == entry.updated == T0
    assert entry.published == datetime(2023, 7, 13, 16, 0, tzinfo=UTC)  # midnight in Shanghai
    assert entry.date_evidence is DateEvidence.PAGE
    assert d.changed == () and d.seen == 1


def test_seeing_the_same_posts_again_changes_nothing() -> None:
    posts = [post("A", 7, 14, 2023), post("B", 7, 6, 2023)]
    known = apply(Known(), differ.diff(Known(), posts, seen_at=T0, zone=ZONE, source="s"))
    again = differ.diff(known, list(reversed(posts)), seen_at=T1, zone=ZONE, source="s")
    assert again.new == () and again.changed == () and again.seen == 2


def test_punctuation_and_truncation_of_the_summary_are_not_changes() -> None:
    first = post(
        "NBCE", 5, 23, 2023, summary="这就是本文所提出的NBCE(Naive Bayes-based Context Extension)方法。\n摸石过河"
    )
    known = apply(Known(), differ.diff(Known(), [first], seen_at=T0, zone=ZONE, source="s"))
    other_layout = replace(first, summary="这就是本文所提出的NBCENaive Bayes-based Context Extension)方法。")
    d = differ.diff(known, [other_layout], seen_at=T1, zone=ZONE, source="s")
    assert d.new == () and d.changed == ()


def test_a_rewritten_summary_is_a_change_and_bumps_updated_only() -> None:
    first = post("A", 5, 23, 2023, summary="旧的文字。")
    known = apply(Known(), differ.diff(Known(), [first], seen_at=T0, zone=ZONE, source="s"))
    d = differ.diff(known, [replace(first, summary="全新的文字。")], seen_at=T1, zone=ZONE, source="s")
    (changed,) = d.changed
    assert changed.summary == "全新的文字。" and changed.updated == T1 and changed.first_seen == T0


def test_a_post_missing_from_the_page_is_kept() -> None:
    known = apply(Known(), differ.diff(Known(), [post("A", 1, 1, 2023)], seen_at=T0, zone=ZONE, source="s"))
    d = differ.diff(known, [post("B", 1, 2, 2023)], seen_at=T1, zone=ZONE, source="s")
    assert [e.title for e in d.new] == ["B"] and d.changed == ()


def test_tombstoned_posts_are_never_new_again() -> None:
    gone = post("Pruned", 1, 1, 2020)
    known = Known(tombstones=frozenset({differ.identity(gone)}))
    d = differ.diff(known, [gone], seen_at=T0, zone=ZONE, source="s")
    assert d.new == () and d.seen == 1


def test_an_untitled_post_matches_its_titled_sighting_by_text() -> None:
    text = "如何减少采样步数同时保证生成质量,是扩散模型应用层面的一个关键问题。其中……"
    untitled = Post(title="如何减少采样步数同时保证生成质量", summary=text, date=PageDate(4, 23), title_derived=True)
    known = apply(Known(), differ.diff(Known(), [untitled], seen_at=T0, zone=ZONE, source="s"))
    titled = post("生成扩散模型漫谈:Skip Tuning", 4, 23, 2024, summary=text)
    d = differ.diff(known, [titled], seen_at=T1, zone=ZONE, source="s")
    assert d.new == ()
    (changed,) = d.changed
    assert changed.title == "生成扩散模型漫谈:Skip Tuning" and not changed.title_derived
    assert changed.date_evidence is DateEvidence.PAGE and changed.published is not None
    assert changed.published.astimezone(ZONE).year == 2024
    # and a later untitled sighting does not take the real title away
    known = apply(known, d)
    assert differ.diff(known, [untitled], seen_at=T1, zone=ZONE, source="s").changed == ()


def test_a_year_guessed_from_fetch_time_is_corrected_by_later_evidence() -> None:
    yearless = [post("A", 9, 20), post("B", 10, 13)]  # oldest first, no anchors
    late = datetime(2026, 11, 23, tzinfo=UTC)
    known = apply(Known(), differ.diff(Known(), yearless, seen_at=late, zone=ZONE, source="s"))
    guessed = {e.title: e for e in known.entries.values()}
    assert guessed["B"].date_evidence is DateEvidence.FETCH_TIME
    assert guessed["B"].published is not None and guessed["B"].published.astimezone(ZONE).year == 2026

    d = differ.diff(known, [post("A", 9, 20, 2023)], seen_at=late, zone=ZONE, source="s")
    fixed = {e.title: e for e in d.changed}
    assert fixed["A"].date_evidence is DateEvidence.PAGE
    assert fixed["B"].date_evidence is DateEvidence.LISTING_ORDER  # B is not on this page: re-resolved
    assert fixed["B"].published is not None
    assert fixed["B"].published.astimezone(ZONE).date().isoformat() == "2023-10-13"


def test_the_same_post_twice_on_one_page_is_one_entry() -> None:
    d = differ.diff(Known(), [post("A", 1, 1, 2023), post("A", 1, 1, 2023)], seen_at=T0, zone=ZONE, source="s")
    assert len(d.new) == 1


def test_posts_without_date_have_no_published() -> None:
    d = differ.diff(Known(), [Post(title="Undated", summary="x")], seen_at=T0, zone=ZONE, source="s")
    (entry,) = d.new
    assert entry.published is None and entry.date_evidence is None and d.listing is None


def test_new_categories_are_a_change_and_missing_ones_keep_the_old() -> None:
    first = differ.diff(Known(), [post("Tagged", 3, 1, 2024, categories=("a",))], seen_at=T0, zone=ZONE, source="s")
    (entry,) = first.new
    assert entry.categories == ("a",)
    known = apply(Known(), first)
    again = differ.diff(known, [post("Tagged", 3, 1, 2024, categories=("a",))], seen_at=T1, zone=ZONE, source="s")
    assert again.new == () and again.changed == ()
    untagged = differ.diff(known, [post("Tagged", 3, 1, 2024)], seen_at=T1, zone=ZONE, source="s")
    assert untagged.changed == ()  # a layout that shows no tags does not erase them
    tags = ("a", "b")
    retagged = differ.diff(known, [post("Tagged", 3, 1, 2024, categories=tags)], seen_at=T1, zone=ZONE, source="s")
    (changed,) = retagged.changed
    assert changed.categories == ("a", "b") and changed.updated == T1


def test_html_summaries_are_carried_to_new_entries() -> None:
    d = differ.diff(Known(), [post("H", 3, 1, 2024, summary="<p>x</p>", summary_html=True)], T0, ZONE, "s")
    assert d.new[0].summary_html is True


def test_words_keeps_exactly_the_letters_and_digits_of_any_script() -> None:
    from feedsvc.differ import words

    assert words("第1篇:RoPE 是一种β进制编码!") == "第1篇rope是一种β进制编码"
    assert words("a_b-c\u3000d。e…f") == "abcdef"  # underscore, dash, ideographic space and CJK punctuation go
    assert words("Ⅻ ½ ٣") == "xii12٣"  # NFKC first: Roman numeral, fraction (its slash goes), Arabic-Indic digit


def test_posts_that_share_one_link_stay_distinct_posts() -> None:
    shared = "https://example.org/news"
    posts = [post("Storm warning", 1, 5, 2024, link=shared), post("Road closed", 1, 6, 2024, link=shared)]
    d = differ.diff(Known(), posts, seen_at=T0, zone=ZONE, source="s")
    assert sorted(entry.title for entry in d.new) == ["Road closed", "Storm warning"]
    assert len({entry.identity for entry in d.new}) == 2


def test_a_post_stored_under_its_link_alone_keeps_its_entry_when_the_link_becomes_shared() -> None:
    link = "https://example.org/news"
    first = post("Storm warning", 1, 5, 2024, link=link)
    known = apply(Known(), differ.diff(Known(), [first], seen_at=T0, zone=ZONE, source="s"))
    assert set(known.entries) == {differ.identity(first)}
    later = [first, post("Road closed", 1, 6, 2024, link=link)]
    d = differ.diff(known, later, seen_at=T1, zone=ZONE, source="s")
    assert [entry.title for entry in d.new] == ["Road closed"]
    assert d.changed == ()


def test_items_without_a_link_are_kept_by_title_and_date() -> None:
    posts = [post("Maintenance window", 3, 1), post("Maintenance window", 3, 8), post("Office closed", 3, 1)]
    d = differ.diff(Known(), posts, seen_at=T0, zone=ZONE, source="s")
    assert len(d.new) == 3
