# The suite's own rule: a test that opens a register runs on SQLite and on PostgreSQL
# (tests/conftest.py's autouse guard), and in CI PostgreSQL is there.
from __future__ import annotations

import os

from tests.conftest import BACKENDS, PG_URL, backend_problem


def test_a_sqlite_only_test_is_caught() -> None:
    assert "not parametrised by backend" in (backend_problem({"sqlite"}, {"tmp_path"}, {}, False) or "")


def test_sqlite_opened_in_the_postgresql_run_is_caught() -> None:
    problem = backend_problem({"sqlite"}, {"register"}, {"register": "postgresql"}, False)
    assert "in its PostgreSQL run" in (problem or "")
    assert "in its PostgreSQL run" in (backend_problem({"sqlite", "postgresql"}, {"db"}, {"db": "postgresql"}, False) or "")


def test_parametrised_tests_and_sqlite_tests_pass() -> None:
    assert backend_problem({"sqlite"}, {"db"}, {"db": "sqlite"}, False) is None
    assert backend_problem({"postgresql"}, {"register"}, {"register": "postgresql"}, False) is None
    assert backend_problem({"sqlite"}, {"sqlite_db"}, {}, False) is None
    assert backend_problem({"sqlite"}, {"tmp_path"}, {}, True) is None  # @pytest.mark.sqlite_only
    assert backend_problem(set(), {"tmp_path"}, {}, False) is None  # no register at all


def test_in_ci_both_backends_run() -> None:
    if os.environ.get("CI", "").lower() == "true":
        assert PG_URL and BACKENDS == ["sqlite", "postgresql"]
