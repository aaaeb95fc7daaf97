"""GET / (the list of feeds) and GET /healthz."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template_string

from feedsvc.config import Settings
from feedsvc.store import Store

pages = Blueprint("pages", __name__)

_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>feedsvc</title>
{% for s in sources %}<link rel="alternate" type="application/atom+xml" title="{{ s.title }}"
 href="{{ base_url }}/feeds/{{ s.name }}.atom">
{% endfor %}</head>
<body><h1>feedsvc</h1><ul>
{% for s, st in rows %}<li><a href="{{ base_url }}/feeds/{{ s.name }}.atom">{{ s.title }}</a>
 ({{ st.entries_stored }} entries{% if st.last_error %}; last error: {{ st.last_error }}{% endif %})</li>
{% endfor %}</ul></body></html>
"""


@pages.get("/")
def index() -> str:
    settings: Settings = current_app.config["FEEDSVC_SETTINGS"]
    store: Store = current_app.config["FEEDSVC_STORE"]
    states = store.states([s.name for s in settings.sources])
    return render_template_string(
        _INDEX,
        sources=settings.sources,
        rows=list(zip(settings.sources, states, strict=True)),
        base_url=settings.base_url,
    )


@pages.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
