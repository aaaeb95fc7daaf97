"""``feedsvc preview``: the real command, over a real local HTTP server and on a local file, without a config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support import ROOT, snapshot_server

ENGINES = ROOT / "fixtures" / "engines"


def preview(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", "--config", "/nonexistent.toml", "preview", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_preview_of_a_served_page_names_the_detector_the_feed_and_the_posts() -> None:
    with snapshot_server() as server:
        server.serve((ENGINES / "discuz.html").read_bytes(), "text/html; charset=utf-8")
        done = preview(server.url, "--timezone", "Asia/Shanghai")
    assert done.returncode == 0, done.stderr
    assert "layout: html_blocks (auto-detected), 3 post(s)" in done.stdout
    assert "note: the page announces its own feed: http://127.0.0.1:" in done.stdout
    assert "求推荐一支适合扫街的定焦镜头" in done.stdout
    assert "2023-12-30" in done.stdout


def test_preview_with_selectors_on_a_file() -> None:
    done = preview(str(ENGINES / "wordpress.html"), "--selectors", '{item = "article.post", title = ".entry-title a"}')
    assert done.returncode == 0, done.stderr
    assert "layout: selectors, 3 post(s)" in done.stdout
    assert "Sourdough, again" in done.stdout


def test_preview_rejects_a_bad_selector_with_a_clear_error() -> None:
    done = preview(str(ENGINES / "wordpress.html"), "--selectors", '{item = "article["}')
    assert done.returncode == 2
    assert "--selectors.item: not a CSS selector" in done.stderr


def test_preview_json_gives_the_layout_and_every_post_with_its_date_and_how() -> None:
    import json

    done = preview(str(ENGINES / "discuz.html"), "--json", "--timezone", "Asia/Shanghai")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["layout"] == "html_blocks" and data["auto_detected"] is True
    assert len(data["posts"]) == 3
    first = data["posts"][1]
    assert first["title"] == "求推荐一支适合扫街的定焦镜头"
    assert first["date_shown"] == "2024-1-8" and first["date"] == "2024-01-08"
    assert first["date_how"].startswith("page") and first["author"] == "光圈不够大"
    assert {"link", "summary"} <= set(first)


def test_preview_explain_lists_the_candidates_with_scores_and_why_the_winner_won() -> None:
    done = preview(str(ENGINES / "discuz.html"), "--explain")
    assert done.returncode == 0, done.stderr
    assert "how auto mode chose:" in done.stdout
    assert "chosen: table#threadlisttableid > tbody: highest score" in done.stdout
    assert "x2 dates shown" in done.stdout
    assert "chosen: html_blocks" in done.stdout
