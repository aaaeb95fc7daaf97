"""Screenshots of the add-a-site page and the index page for the docs (``python3 docs/screenshots.py``).

Runs the real service on a temporary config against a local HTTP server (a blog listing from
``fixtures/engines``), drives Debian's ``/usr/bin/chromium`` with Playwright, and writes
``docs/add-site.png`` and ``docs/index.png``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support import SEEDS, TOKEN, free_port, http, running_service, snapshot_server, write_config  # noqa: E402

VIEWPORT = {"width": 1000, "height": 900}


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, snapshot_server() as blog, snapshot_server() as kexue:
        blog.serve((ROOT / "fixtures" / "engines" / "hugo.html").read_bytes(), "text/html; charset=utf-8")
        kexue.serve(SEEDS[-1].read_bytes())
        sources = f"""
[[sources]]
name = "kexue"
title = "科学空间"
url = "{kexue.url}"
timezone = "Asia/Shanghai"
language = "zh-CN"

[[sources]]
name = "gone"
title = "A site that went away"
url = "http://127.0.0.1:{free_port()}/blog/"
timeout = 2
"""
        service = 'allow_private_addresses = true\nmanual_refresh_gap = "0s"\nhost_gap = "0s"'
        cfg = write_config(Path(tmp), free_port(), sources, service=service)
        with running_service(cfg, Path(tmp)) as running, sync_playwright() as playwright:
            for name in ("kexue", "gone"):
                running.refresh(name)
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(60_000)
            page.goto(f"{running.base_url}/admin/login?next=/admin/sources/new")
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url("**/admin/sources/new")
            page.fill("#url", blog.url)
            page.locator("#preview-posts tr.post").first.wait_for()
            page.eval_on_selector("#lists", "details => { details.open = true; }")
            page.fill("#name", "qc")
            page.fill("#title", "Quadratic Compiler")
            page.select_option("#timezone", "Europe/London")
            page.screenshot(path=str(ROOT / "docs" / "add-site.png"), full_page=True)
            page.click("#save")
            page.wait_for_load_state()
            if page.locator("#save-error").count():
                raise SystemExit(page.locator("#save-error").inner_text())
            page.wait_for_url("**/sources/qc")
            deadline = time.monotonic() + 60
            while not http("GET", f"{running.base_url}/api/sources/qc").json().get("entries_stored"):
                if time.monotonic() > deadline:
                    raise SystemExit("qc was not refreshed within 60 s")
                time.sleep(0.1)
            page.goto(f"{running.base_url}/")
            page.screenshot(path=str(ROOT / "docs" / "index.png"), full_page=True)
            browser.close()
    print("wrote docs/add-site.png and docs/index.png")


if __name__ == "__main__":
    main()
