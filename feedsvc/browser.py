"""One headless Chromium per process, driven by Playwright, for sources with ``fetch = "browser"``.

    Browser.render(url, fetch_one, ...) -> Rendered     the page's HTML once its scripts built it

Chromium does no networking of its own. Every request a page makes is handed to ``fetch_one``
(``fetch.py``: each hop checked and pinned by ``outbound.py``, each body capped at ``max_bytes``),
and its answer is handed back to Chromium; images, fonts and media are refused without a request,
as are frames, WebSockets and service workers. As a second wall, Chromium's own connections go
to a proxy that does not exist (``--proxy-server``, loopback included), so nothing the routing
misses can reach the network. A main document that redirects is navigated to again, so every
hop of it passes through ``fetch_one``; one that answers an error status is not rendered: the
status comes back in ``Rendered`` for ``fetch.py`` to raise as it raises an HTTP fetch's.

One browser serves the whole process: started on first use in a thread of its own (Playwright's
async API on one event loop, so the scheduler's worker threads can render at once), restarted
when it died, closed by ``close`` (``Service.stop``). At most ``pages`` renders run at once; a
render waits for a free page at most its timeout. Each render gets a fresh browser context (no
cookies or storage shared between sources).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from feedsvc.errors import FeedsvcError, FetchError, FetchTimeout, TooLarge

if TYPE_CHECKING:
    from playwright.async_api import Browser as PlaywrightBrowser
    from playwright.async_api import Playwright, Route, WebSocketRoute

log = logging.getLogger("feedsvc.browser")

CHROMIUM = os.environ.get("FEEDSVC_CHROMIUM", "/usr/bin/chromium")  # Debian's chromium; nothing is downloaded
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    # a proxy that does not exist, for every address (loopback too): Chromium itself connects nowhere
    "--proxy-server=http://127.0.0.1:1",
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)
BLOCKED_TYPES = frozenset({"image", "font", "media", "texttrack", "manifest"})  # refused without a request
DEFAULT_PAGES = 2  # [service] browser_pages
MAX_REQUESTS = 200  # requests one render may make; the rest are refused
MAX_REDIRECTS = 5  # of the main document, as for an HTTP fetch
LAUNCH_TIMEOUT = 30.0  # seconds for Chromium to start, on top of a render's own timeout
VIEWPORT = {"width": 1280, "height": 1600}


@dataclass(frozen=True, slots=True)
class Request:
    """One request the page makes, as ``fetch_one`` gets it. ``document``: the page itself."""

    url: str
    method: str
    headers: dict[str, str]
    body: bytes | None
    document: bool


@dataclass(frozen=True, slots=True)
class Answer:
    """What ``fetch_one`` got. ``redirect``: the absolute URL a main document's redirect names."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes = b""
    redirect: str | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    """The rendered page (``html``), or, with a ``status`` of 400 or more, the main document's error answer."""

    url: str
    html: str
    status: int
    reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    blocked: int = 0  # requests refused by type (images, fonts, media, frames)
    requests: int = 0  # requests handed to fetch_one


Fetcher = Callable[[Request], Answer]


@dataclass(slots=True)
class _Navigation:
    """What the route handler saw of one navigation's main document."""

    page: Any = None
    answer: Answer | None = None  # a redirect or an error status: not rendered
    error: FeedsvcError | None = None  # fetch_one refused or failed the main document
    requests: int = 0
    blocked: int = 0


class _Slots:
    """At most ``limit`` holders at once; the limit may change while in use (a config reload)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._used = 0
        self._changed = threading.Condition()

    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        with self._changed:
            self._limit = limit
            self._changed.notify_all()

    @contextmanager
    def held(self, timeout: float) -> Iterator[bool]:
        """Hold a slot (True), or give up after ``timeout`` seconds (False)."""
        with self._changed:
            got = self._changed.wait_for(lambda: self._used < self._limit, timeout)
            if got:
                self._used += 1
        try:
            yield got
        finally:
            if got:
                with self._changed:
                    self._used -= 1
                    self._changed.notify()


class Browser:
    """The process's Chromium: one event-loop thread owns it; ``render`` may be called from any thread."""

    def __init__(self, pages: int = DEFAULT_PAGES, executable: str = CHROMIUM) -> None:
        self.executable = executable
        self._slots = _Slots(pages)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Playwright | None = None
        self._browser: PlaywrightBrowser | None = None
        self._fetches = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="feedsvc-browser-fetch")
        self.launches = 0  # how many times Chromium was started (a restart after a crash counts)

    @property
    def pages(self) -> int:
        return self._slots.limit

    def set_pages(self, pages: int) -> None:
        """At most ``pages`` renders at once from now on."""
        self._slots.set_limit(pages)

    def render(
        self,
        url: str,
        fetch_one: Fetcher,
        *,
        timeout: float,
        max_bytes: int,
        user_agent: str,
        wait_for: str | None = None,
    ) -> Rendered:
        """``url`` rendered: its HTML once the network is idle (or ``wait_for`` matches an element),
        within ``timeout`` seconds (plus Chromium's start on first use); FetchError otherwise."""
        with self._slots.held(timeout) as free:
            if not free:
                raise FetchTimeout(f"{url}: no free browser page within {timeout:g} s (browser_pages = {self.pages})")
            loop = self._running_loop()
            job = self._render(url, fetch_one, timeout, max_bytes, user_agent, wait_for)
            future = asyncio.run_coroutine_threadsafe(job, loop)
            try:
                return future.result(timeout + LAUNCH_TIMEOUT)
            except concurrent.futures.TimeoutError:
                future.cancel()
                raise FetchTimeout(f"{url}: the browser did not answer within {timeout + LAUNCH_TIMEOUT:g} s") from None

    def close(self) -> None:
        """Close Chromium and stop the loop thread; a later ``render`` starts them again."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(LAUNCH_TIMEOUT)
        except Exception as exc:  # closing is best effort: the driver ends Chromium when this process ends
            log.warning("closing the browser: %s", exc)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(LAUNCH_TIMEOUT)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=_serve, args=(loop,), name="feedsvc-browser", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _render(
        self, url: str, fetch_one: Fetcher, timeout: float, max_bytes: int, user_agent: str, wait_for: str | None
    ) -> Rendered:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        loop = asyncio.get_running_loop()
        options: dict[str, Any] = {
            "user_agent": user_agent, "service_workers": "block", "accept_downloads": False, "viewport": VIEWPORT,
        }  # fmt: skip
        browser = await self._started()
        try:
            context = await browser.new_context(**options)
        except PlaywrightError:  # it died since the last render, unnoticed: start it again, once
            browser = await self._started(force=True)
            try:
                context = await browser.new_context(**options)
            except PlaywrightError as exc:
                raise FetchError(f"{url}: the browser failed: {_first_line(exc)}") from None
        deadline = loop.time() + timeout  # Chromium's start (first use) is not the page's time
        try:
            state = _Navigation()
            await context.route("**/*", lambda route: self._route(route, state, fetch_one))
            await context.route_web_socket("**/*", _refuse_web_socket)
            page = await context.new_page()
            state.page = page
            target = url
            for _hop in range(MAX_REDIRECTS + 1):
                state.answer, state.error = None, None
                remaining = deadline - loop.time()
                try:
                    response = await page.goto(
                        target,
                        wait_until="domcontentloaded" if wait_for else "networkidle",
                        timeout=max(remaining, 0.001) * 1000,
                    )
                    if wait_for:
                        remaining = deadline - loop.time()
                        await page.wait_for_selector(
                            f"css={wait_for}", state="attached", timeout=max(remaining, 0.001) * 1000
                        )
                except PlaywrightTimeout:
                    if state.error is not None:
                        raise state.error from None
                    why = (
                        f"no element matched wait_for {wait_for!r}"
                        if wait_for
                        else "the network never went idle: set wait_for to the CSS selector of the list"
                    )
                    raise FetchTimeout(f"{url}: the page was not ready within {timeout:g} s ({why})") from None
                except PlaywrightError as exc:
                    if state.error is not None:
                        raise state.error from None
                    if state.answer is not None and state.answer.redirect is not None:
                        target = state.answer.redirect
                        continue
                    if state.answer is not None:
                        answer = state.answer
                        return Rendered(target, "", answer.status, answer.reason, answer.headers)
                    if not browser.is_connected():
                        raise FetchError(f"{url}: the browser crashed while rendering the page") from None
                    raise FetchError(f"{url}: the browser could not load the page: {_first_line(exc)}") from None
                html = await page.content()
                if len(html.encode("utf-8", "surrogatepass")) > max_bytes:
                    raise TooLarge(f"{url}: the rendered page is more than the {max_bytes} bytes allowed")
                status = response.status if response is not None else 200
                return Rendered(page.url, html, status, blocked=state.blocked, requests=state.requests)
            raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)")
        except PlaywrightError as exc:
            if not browser.is_connected():
                raise FetchError(f"{url}: the browser crashed while rendering the page") from None
            raise FetchError(f"{url}: the browser failed: {_first_line(exc)}") from None
        finally:
            with contextlib.suppress(PlaywrightError):  # the browser is gone: nothing left to close
                await context.close()

    async def _route(self, route: Route, state: _Navigation, fetch_one: Fetcher) -> None:
        """Every request of the page: refused by type, or fetched by ``fetch_one`` and answered from it."""
        from playwright.async_api import Error as PlaywrightError

        request = route.request
        try:
            document = request.is_navigation_request() and request.frame == state.page.main_frame
            if not document and (request.resource_type in BLOCKED_TYPES or request.resource_type == "document"):
                state.blocked += 1
                await route.abort("blockedbyclient")
                return
            if state.requests >= MAX_REQUESTS:
                await route.abort("blockedbyclient")
                return
            state.requests += 1
            headers = await request.all_headers()
            wanted = Request(request.url, request.method, headers, request.post_data_buffer, document)
            try:
                answer = await asyncio.get_running_loop().run_in_executor(self._fetches, fetch_one, wanted)
            except FeedsvcError as exc:
                if document:
                    state.error = exc
                else:
                    log.debug("a request of the page was not made: %s", exc)
                await route.abort("failed")
                return
            except Exception as exc:  # a bug in a fetch must not wedge the page: it fails like a dead site
                log.warning("browser request for %s failed: %s", request.url, exc)
                if document:
                    state.error = FetchError(f"{request.url}: {type(exc).__name__}: {exc}")
                await route.abort("failed")
                return
            if document and (answer.redirect is not None or answer.status >= 400):
                state.answer = answer
                await route.abort("aborted")
                return
            await route.fulfill(status=answer.status, headers=answer.headers, body=answer.body)
        except PlaywrightError:
            pass  # the page or the browser closed meanwhile: the render reports it

    @property
    def running(self) -> bool:
        """Chromium is started and connected (False before the first render and after it died)."""
        return self._browser is not None and self._browser.is_connected()

    async def _started(self, force: bool = False) -> PlaywrightBrowser:
        """The running Chromium: started on first use, and again after it died (or with ``force``)."""
        if self._browser is not None and self._browser.is_connected() and not force:
            return self._browser
        if self._browser is not None:
            await self._shutdown()
        try:
            from playwright.async_api import Error as PlaywrightError
            from playwright.async_api import async_playwright
        except ImportError:
            raise FetchError('fetch = "browser" needs Playwright: pip install "feedsvc[browser]"') from None
        if not os.path.exists(self.executable):
            raise FetchError(f'fetch = "browser" needs Chromium at {self.executable} (apt-get install chromium)')
        for attempt in (1, 2):
            try:
                if self._playwright is None:
                    self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.executable, args=list(CHROMIUM_ARGS), timeout=LAUNCH_TIMEOUT * 1000
                )
            except PlaywrightError as exc:  # the driver itself may have died: start it afresh once
                await self._stop_playwright()
                if attempt == 2:
                    raise FetchError(f"the browser ({self.executable}) did not start: {_first_line(exc)}") from None
                continue
            self.launches += 1
            log.info("browser started (%s), launch %d", self.executable, self.launches)
            return self._browser
        raise AssertionError("unreachable")  # pragma: no cover

    async def _shutdown(self) -> None:
        if self._browser is not None:
            try:
                await self._browser.close()
            except Exception as exc:
                log.debug("browser close: %s", exc)
            self._browser = None
        await self._stop_playwright()

    async def _stop_playwright(self) -> None:
        if self._playwright is not None:
            try:
                await self._playwright.stop()
            except Exception as exc:
                log.debug("playwright stop: %s", exc)
            self._playwright = None


async def _refuse_web_socket(socket: WebSocketRoute) -> None:
    await socket.close(code=1008, reason="feedsvc: no WebSockets")


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_shared: Browser | None = None
_shared_lock = threading.Lock()


def shared() -> Browser:
    """The process's browser (made on first call; Chromium itself starts at the first render)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Browser()
        return _shared


def close_shared() -> None:
    """Close the process's browser, when one was made (``Service.stop``, ``feedsvc preview``)."""
    with _shared_lock:
        browser = _shared
    if browser is not None:
        browser.close()
