"""Is this page a script app's empty shell? Pure: reads the parsed ``Page``.

A page whose list a script builds arrives as a shell: next to no visible text, an element for
the app to mount into (a ``div`` named ``root``, ``app``, ``__next``, ``__nuxt``…, or an empty
``div``) and scripts. A plain fetch finds no posts there; rendering it in a browser
(``fetch = "browser"``) does. ``is_app_shell`` says so, for the error a refresh or a preview gives.
"""

from __future__ import annotations

from feedsvc.extract.page import Page

SHELL_TEXT = 300  # characters of visible text: a shell shows at most a title, a menu, a "loading…"
MOUNT_IDS = ("root", "app", "__next", "__nuxt", "___gatsby", "svelte", "main", "application", "react-root")
_MOUNT = ", ".join(f'[id="{name}"]' for name in MOUNT_IDS) + ", [data-reactroot], [ng-app], [ng-version]"
HINT = 'this page is built by scripts: try fetch = "browser"'
RENDERED_HINT = (
    "the page was rendered in the browser but still looks like an empty app shell: set wait_for to the "
    "CSS selector of its list, or a longer timeout"
)


def is_app_shell(page: Page) -> bool:
    """True for an HTML page with next to no visible text, a mount point for an app, and scripts."""
    body = page.body
    if body is None or page.script_count == 0 or page.text_size > SHELL_TEXT:
        return False
    if body.css_first(_MOUNT) is not None:
        return True
    return any(next(div.iter(), None) is None and not div.text(strip=True) for div in body.css("div"))
