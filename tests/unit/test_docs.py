"""Documented promises are tested: every setting and command is in the README, CI runs its test command."""

import re
from pathlib import Path

from feedsvc import cli, config

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start() -> list[str]:
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_quick_start_is_exactly_two_commands_serve_and_test() -> None:
    serve, test = quick_start()
    assert serve.endswith("feedsvc serve")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    _, test = quick_start()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()


def test_every_setting_is_documented() -> None:
    service_keys = {"bind", "data_dir", "database_url", "base_url", "refresh_token_env", "threads", "server"}
    source_keys = {f.name for f in config.Source.__dataclass_fields__.values()} - {"zone", "is_local"}
    for key in service_keys | source_keys:
        assert f"| `{key}` |" in README, f"setting {key} is not in the README"


def test_every_command_is_documented() -> None:
    parser = cli._parser()
    (commands,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    for name in commands.choices:  # type: ignore[attr-defined]
        assert re.search(rf"`feedsvc {name}\b", README), f"command {name} is not in the README"
