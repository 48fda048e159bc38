from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi.sample_size import krejcie_morgan, sample_adequate


@pytest.mark.parametrize(
    ("population", "sample"),
    [(1, 1), (10, 10), (50, 44), (100, 80), (500, 217), (1000, 278), (10000, 370),
     (1000000, 384)],
)  # fmt: skip
def test_domain_checks(population: int, sample: int) -> None:
    assert krejcie_morgan(population) == sample


@pytest.mark.parametrize("population", [0, -5])
def test_no_population_needs_no_sample(population: int) -> None:
    assert krejcie_morgan(population) == 0


def test_adequacy_is_reported_not_enforced() -> None:
    assert sample_adequate(80, 100)
    assert not sample_adequate(79, 100)
    assert sample_adequate(0, 0)


@given(st.integers(1, 10**7))
def test_sample_is_between_1_and_population_and_capped(population: int) -> None:
    sample = krejcie_morgan(population)
    assert 1 <= sample <= population
    assert sample <= 384


@given(st.integers(1, 10**6))
def test_sample_never_shrinks_as_population_grows(population: int) -> None:
    assert krejcie_morgan(population) <= krejcie_morgan(population + 1)
