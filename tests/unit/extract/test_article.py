"""An article page's main text (extract/article.py): the post's own words, not the site around them."""

from __future__ import annotations

import pytest

from feedsvc.errors import NoMainText
from feedsvc.extract import article

URL = "https://blog.example/2024/03/a-post.html"


def page(body: str) -> str:
    return (
        "<!DOCTYPE html><html><head><title>A post</title><script>var tracking = 1;</script></head><body>"
        "<header><nav><a href='/'>Home</a> · <a href='/archive'>Archive</a></nav></header>"
        f"<main><article>{body}</article></main>"
        "<aside><h3>Popular</h3><ul><li><a href='/p/1'>Another post entirely</a></li></ul></aside>"
        "<footer>Copyright 2024 · <a href='/imprint'>Imprint</a></footer></body></html>"
    )


PARAGRAPHS = "".join(
    f"<p>Paragraph {n} of the post says something worth reading, in sentences long enough to be prose.</p>"
    for n in range(1, 5)
)


def test_the_main_text_keeps_the_posts_paragraphs_and_links_and_drops_the_site_around_them() -> None:
    notes = '<p>See <a href="../notes.html">my notes</a> on it, at length.</p>'
    text = article.main_text(page(PARAGRAPHS + notes), URL)
    for n in range(1, 5):
        assert f"Paragraph {n} of the post" in text
    assert '<a href="https://blog.example/2024/notes.html">my notes</a>' in text  # made absolute
    for around in ("Archive", "Another post entirely", "Imprint", "tracking"):
        assert around not in text
    assert not text.startswith("<html") and "<body" not in text  # a fragment


@pytest.mark.parametrize("body", ["", "<div>   </div>", "<img src='/photo.jpg'>"])
def test_a_page_without_main_text_is_a_clear_error(body: str) -> None:
    with pytest.raises(NoMainText, match="no main text found"):
        article.main_text(page(body), URL)


def test_a_very_long_article_is_cut() -> None:
    long = "".join(f"<p>Sentence number {n} of a very long article that goes on and on.</p>" for n in range(8000))
    text = article.main_text(page(long), URL)
    assert len(text) == article.MAX_CHARS
    assert "Sentence number 1 of" in text


def test_an_xhtml_page_that_declares_its_encoding_is_read() -> None:
    xhtml = '<?xml version="1.0" encoding="utf-8"?>\n' + page(PARAGRAPHS).replace("<!DOCTYPE html>", "")
    assert "Paragraph 4 of the post" in article.main_text(xhtml, URL)
