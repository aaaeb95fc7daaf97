"""Issue 14, the first hour: what a new user meets, on the real ``python -m feedsvc`` process.

The config is found from the current directory, then $XDG_CONFIG_HOME, and the error says where
it looked; --config works after the command too; a port in use, a data directory that is not
one and a locked database each give one line naming the fix, exit 2 and no traceback; logs can
be JSON; APScheduler's per-run lines stay out of the log; `feedsvc refresh` says when the site
answered 304; every command's --help has a description and an example.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from feedsvc import cli
from tests.support import ROOT, TOKEN, free_port, local_http, running_service, write_config

ENV_KEEP = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "VIRTUAL_ENV")


def feedsvc(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    base = {key: os.environ[key] for key in ENV_KEEP if key in os.environ}
    if "PYTHONPATH" not in base:
        base["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "feedsvc", *args],
        cwd=cwd,
        env={**base, "HOME": str(cwd), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_exit_2(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("feedsvc: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_the_config_is_found_from_the_directory_then_xdg_and_the_error_says_where_it_looked(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    xdg = tmp_path / "xdg"
    line = one_line_exit_2(feedsvc("check-config", cwd=empty, env={"XDG_CONFIG_HOME": str(xdg)}))
    for place in (empty / "feedsvc.toml", empty / "config" / "feedsvc.toml", xdg / "feedsvc" / "feedsvc.toml"):
        assert str(place) in line
    assert "/etc/feedsvc/feedsvc.toml" in line and "--config" in line

    (xdg / "feedsvc").mkdir(parents=True)
    (xdg / "feedsvc" / "feedsvc.toml").write_text('[[sources]]\nname = "xdg"\nurl = "https://x.example/"\n')
    found = feedsvc("check-config", cwd=empty, env={"XDG_CONFIG_HOME": str(xdg)})
    assert found.returncode == 0 and "xdg" in found.stdout
    (empty / "feedsvc.toml").write_text('[[sources]]\nname = "here"\nurl = "https://x.example/"\n')
    found = feedsvc("check-config", cwd=empty, env={"XDG_CONFIG_HOME": str(xdg)})
    assert found.returncode == 0 and "here" in found.stdout  # the current directory first

    other = tmp_path / "other.toml"
    other.write_text('[[sources]]\nname = "after"\nurl = "https://x.example/"\n')
    after = feedsvc("check-config", "--config", str(other), cwd=empty)
    assert after.returncode == 0 and "after" in after.stdout  # --config after the command


def test_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        write_config(tmp_path, port, "")
        line = one_line_exit_2(feedsvc("serve", "--config", str(tmp_path / "feedsvc.toml"), cwd=tmp_path))
    assert f"127.0.0.1:{port} is already in use" in line and "bind" in line


def test_a_data_directory_that_cannot_be_used_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where the data directory should be")
    cfg = tmp_path / "feedsvc.toml"
    cfg.write_text(f'[service]\nbind = "127.0.0.1:{free_port()}"\ndata_dir = "blocker/data"\n')
    line = one_line_exit_2(feedsvc("serve", "--config", str(cfg), cwd=tmp_path))
    assert f"data directory {tmp_path / 'blocker' / 'data'}" in line and "data_dir" in line


def test_a_locked_database_says_so_in_one_line(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, free_port(), "")
    assert feedsvc("sources", "export", "--config", str(cfg), cwd=tmp_path).returncode == 0  # creates it
    holder = sqlite3.connect(tmp_path / "data" / "feedsvc.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        line = one_line_exit_2(feedsvc("refresh", "--config", str(cfg), cwd=tmp_path))
    finally:
        holder.close()
    assert "is locked by another process" in line


@pytest.fixture
def etag_site() -> Iterator[str]:
    body = b"<html><body>" + b"".join(
        b'<article><h2><a href="/p/%d">Post %d</a></h2>' % (n, n)
        + b'<time datetime="2024-05-0%d">May %d</time><p>Text %d</p></article>' % (n, n, n)
        for n in range(1, 6)
    ) + b"</body></html>"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with local_http(Handler) as base:
        yield f"{base}/blog/"


def test_refresh_says_not_modified_and_logs_can_be_json(tmp_path: Path, etag_site: str) -> None:
    cfg = write_config(tmp_path, free_port(), f'[[sources]]\nname = "blog"\nurl = "{etag_site}"\n')
    first = feedsvc("--log-format", "json", "refresh", "--config", str(cfg), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "blog: 5 new, 0 updated, 5 on the page"
    lines = [json.loads(line) for line in first.stderr.splitlines()]
    assert any(line["message"].startswith("refresh source=blog outcome=ok") for line in lines)
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    second = feedsvc("refresh", "--config", str(cfg), "--log-format", "json", cwd=tmp_path)
    assert second.stdout.strip() == "blog: not modified since the last fetch"


def test_the_service_log_has_one_line_per_refresh_and_no_apscheduler_chatter(tmp_path: Path, etag_site: str) -> None:
    cfg = write_config(tmp_path, free_port(), f'[[sources]]\nname = "blog"\nurl = "{etag_site}"\ninterval = "1s"\n',
                       service='min_interval = "1s"\nhost_gap = "0s"')  # fmt: skip
    with running_service(cfg, tmp_path) as service:
        import time

        deadline = time.monotonic() + 60
        while service.log().count("refresh source=blog") < 2:  # the first refresh, then a 304
            assert time.monotonic() < deadline, service.log()
            time.sleep(0.1)
        log = service.log()
    assert "outcome=not-modified" in log
    assert "Running job" not in log and "executed successfully" not in log
    assert "admin token: from the FEEDSVC_TEST_TOKEN environment variable" in log and TOKEN not in log


@pytest.mark.parametrize("command", ["serve", "worker", "refresh", "check-config", "preview", "sources"])
def test_every_command_has_help_with_a_description_and_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = capsys.readouterr().out
    assert "example" in text and f"feedsvc {command}" in text.split("example", 1)[1]
    assert len(text.split("\n\n")[1].strip()) > 30  # the description


def test_refresh_on_a_terminal_says_n_of_n(tmp_path: Path) -> None:
    import os
    import pty

    from tests.support import SEEDS

    sources = "".join(f'[[sources]]\nname = "s{i}"\nurl = "{seed}"\n' for i, seed in enumerate(SEEDS[:2]))
    cfg = write_config(tmp_path, free_port(), sources)
    controller, terminal = pty.openpty()  # stderr is a terminal, stdout a pipe
    env = {key: os.environ[key] for key in ENV_KEEP if key in os.environ}
    env.setdefault("PYTHONPATH", str(ROOT))
    with subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "refresh", "--config", str(cfg)],
        cwd=tmp_path,
        env={**env, "HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    ) as process:
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the process is done with it
                break
            if not chunk:
                break
            shown += chunk
        stdout, _ = process.communicate(timeout=120)
    os.close(controller)
    assert process.returncode == 0, shown
    assert b"[1/2] s0" in shown and b"[2/2] s1" in shown
    lines = stdout.splitlines()
    assert len(lines) == 2 and lines[0] == "s0: 8 new, 0 updated, 8 on the page" and lines[1].startswith("s1: ")
    assert "[1/2]" not in stdout  # the progress is for the terminal, not for what a script reads
