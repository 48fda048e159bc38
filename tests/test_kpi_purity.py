"""kpi/ must stay pure: standard library only, no clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

KPI = Path(__file__).resolve().parent.parent / "kpi"
MODULES = sorted(KPI.glob("*.py"))
FORBIDDEN_CALLS = {"now", "today", "utcnow", "time", "monotonic"}


def test_there_are_modules_to_check() -> None:
    assert len(MODULES) >= 9


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_only_stdlib_or_kpi(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"__future__", "kpi"}
    assert roots <= allowed, roots - allowed


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_clock_calls(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not calls & FORBIDDEN_CALLS


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.name != "__init__.py"], ids=lambda p: p.name
)
def test_module_starts_with_a_header_comment(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith("# ")
