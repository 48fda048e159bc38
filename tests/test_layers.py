# The layers of architecture.md: kpi/ is pure, storage/ never reaches up into bot/, and
# storage/ is the only package that imports SQLAlchemy (bot/ may name its types for mypy).
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def runtime_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", files("storage"), ids=lambda p: str(p.relative_to(ROOT)))
def test_storage_does_not_import_bot(path: Path) -> None:
    assert "bot" not in runtime_imports(path)


@pytest.mark.parametrize("path", files("bot"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_storage_imports_sqlalchemy(path: Path) -> None:
    assert not {"sqlalchemy", "alembic"} & runtime_imports(path)


@pytest.mark.parametrize("path", files("kpi"), ids=lambda p: str(p.relative_to(ROOT)))
def test_kpi_imports_no_project_package(path: Path) -> None:
    assert not {"bot", "storage", "sqlalchemy", "telegram"} & runtime_imports(path)


def test_the_check_can_fail() -> None:
    probe = ROOT / "tests" / "_layers_probe.py"
    probe.write_text("import sqlalchemy\nfrom bot import cli\n", encoding="utf-8")
    try:
        assert {"sqlalchemy", "bot"} <= runtime_imports(probe)
    finally:
        probe.unlink()
