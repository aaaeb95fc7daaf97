"""Auto-detection on HTML: the fullest reading wins; categories come from tag links or a selector."""

from __future__ import annotations

from datetime import UTC, datetime

from feedsvc import extract
from feedsvc.extract.selectors import Selectors
from feedsvc.model import Snapshot

# Every date sits alone on a rendered line, so the day_month text layout matches this page too.
PAGE = """<html><body><nav><a href="/">Home</a> <a href="/about">About</a></nav><main>
<article class="post"><h2><a href="/a">First post</a></h2><time datetime="2024-03-01">1 Mar</time>
<p>Text one.</p><footer class="tags"><a rel="tag" href="/t/x">python</a> <a rel="tag" href="/t/y">#feeds</a>
<a rel="tag" href="/t/x">python</a></footer></article>
<article class="post"><h2><a href="/b">Second post</a></h2><time datetime="2024-03-02">2 Mar</time>
<p>Text two.</p><span class="topics"><i>news</i></span></article>
<article class="post"><h2><a href="/c">Third post</a></h2><time datetime="2024-03-03">3 Mar</time>
<p>Text three.</p></article>
</main></body></html>"""


def snapshot(text: str = PAGE) -> Snapshot:
    return Snapshot(url="https://x.example/blog/", text=text, media_type="text/html", fetched_at=datetime.now(UTC))


def test_an_accidental_text_layout_loses_to_the_html_reading_with_links() -> None:
    found = extract.extract(snapshot())
    assert found.layout == "html_blocks"
    assert [(p.title, p.link) for p in found.posts] == [
        ("First post", "https://x.example/a"),
        ("Second post", "https://x.example/b"),
        ("Third post", "https://x.example/c"),
    ]


def test_tag_links_become_categories_once_each_in_page_order() -> None:
    first, second, third = extract.posts(snapshot())
    assert first.categories == ("python", "feeds")
    assert second.categories == () and third.categories == ()


def test_a_categories_selector_overrides_the_usual_cues() -> None:
    chosen = Selectors(item="article.post", categories=".topics i")
    first, second, _ = extract.posts(snapshot(), "selectors", selectors=chosen)
    assert first.categories == ()
    assert second.categories == ("news",)
