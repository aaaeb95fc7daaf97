"""The package's shape: folders are the stages of a refresh, and no module imports a later stage.

The stages, earliest first, as README.md's "How it works" lists them. An import that is only for
type hints (under ``if TYPE_CHECKING:``) is no dependency and does not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

PACKAGE = ROOT / "feedsvc"
STAGES: list[tuple[str, ...]] = [
    ("feedsvc", "feedsvc.errors", "feedsvc.model", "feedsvc.logs", "feedsvc.urls", "feedsvc.bounds", "feedsvc.filters"),
    ("feedsvc.extract",),
    ("feedsvc.differ",),
    ("feedsvc.config",),
    ("feedsvc.store",),
    ("feedsvc.outbound", "feedsvc.browser", "feedsvc.fetch", "feedsvc.metrics"),
    ("feedsvc.user_sources",),
    ("feedsvc.refresh",),
    ("feedsvc.feeds",),
    ("feedsvc.web",),
    ("feedsvc.service", "feedsvc.granian_server", "feedsvc.preview", "feedsvc.sources_io", "feedsvc.startup"),
    ("feedsvc.cli", "feedsvc.__main__"),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage(module: str) -> int:
    """The stage of ``module``: the longest stage prefix that names it or a package above it."""
    best, best_length = -1, -1
    for index, prefixes in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best >= 0, f"{module} belongs to no stage: add it to STAGES and to README.md"
    return best


def imports(path: Path) -> set[str]:
    """The feedsvc modules ``path`` imports at run time (``from feedsvc.x import y`` counts x.y when y is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("feedsvc")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("feedsvc"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (submodule.replace(".", "/") + ".py")).exists() or (
                    PACKAGE.parent / submodule.replace(".", "/") / "__init__.py"
                ).exists()
                found.add(submodule if is_module else node.module)
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_no_module_imports_a_later_stage() -> None:
    backwards = [
        f"{module} (stage {stage(module)}) imports {target} (stage {stage(target)})"
        for module, targets in graph().items()
        for target in sorted(targets)
        if stage(target) > stage(module)
    ]
    assert backwards == []


def test_every_module_belongs_to_a_stage_the_readme_names() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for module in graph():
        stage(module)
        top = module.split(".")[1] if "." in module else None
        if top is not None and top not in ("__main__",):
            assert f"`{top}/`" in readme or f"`{top}.py`" in readme or top == "__init__", module
