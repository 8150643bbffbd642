"""The SQL statistics macros against Python references (exact where the math is exact)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from statistics import NormalDist

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse.store.migrate import read_sql

Z = NormalDist().inv_cdf(0.975)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.execute(read_sql("views/stats_macros_v1.sql"))
    yield c
    c.close()


def one(con: duckdb.DuckDBPyConnection, sql: str, *params: object) -> float:
    row = con.execute(f"SELECT {sql}", list(params)).fetchone()
    assert row is not None
    return float(row[0])


def test_normal_cdf_and_quantile(con: duckdb.DuckDBPyConnection) -> None:
    for x in (-6.0, -3.1, -1.0, 0.0, 0.5, 1.96, 4.2):
        assert one(con, "norm_cdf(?::DOUBLE)", x) == pytest.approx(NormalDist().cdf(x), abs=1e-7)
    for p in (1e-6, 0.01, 0.02425, 0.2, 0.5, 0.9, 0.975, 0.999999):
        assert one(con, "norm_ppf(?::DOUBLE)", p) == pytest.approx(NormalDist().inv_cdf(p), abs=1e-6)
    assert one(con, "z_for(0.95)") == pytest.approx(Z, abs=1e-8)


@pytest.mark.parametrize(
    ("df", "table"), [(1, 12.706), (2, 4.303), (3, 3.182), (5, 2.571), (10, 2.228), (30, 2.042), (200, 1.972)]
)
def test_t_quantile(con: duckdb.DuckDBPyConnection, df: int, table: float) -> None:
    assert one(con, "t_ppf(0.975, ?)", df) == pytest.approx(table, rel=3e-3)


def wilson(k: int, n: int) -> tuple[float, float]:
    p, z2 = k / n, Z * Z
    centre, half = p + z2 / (2 * n), Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return (centre - half) / (1 + z2 / n), (centre + half) / (1 + z2 / n)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 500), data=st.data())
def test_wilson(con: duckdb.DuckDBPyConnection, n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    low, high = one(con, "wilson_low(?, ?)", k, n), one(con, "wilson_high(?, ?)", k, n)
    ref = wilson(k, n)
    assert low == pytest.approx(max(0.0, ref[0]), abs=1e-9)
    assert high == pytest.approx(min(1.0, ref[1]), abs=1e-9)
    assert 0.0 <= low <= k / n <= high <= 1.0


def binom_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


@settings(max_examples=60, deadline=None)
@given(b=st.integers(0, 80), c=st.integers(0, 80))
def test_mcnemar_exact(con: duckdb.DuckDBPyConnection, b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else min(1.0, 2 * binom_cdf(min(b, c), b + c, 0.5))
    assert one(con, "mcnemar_exact_p(?, ?)", b, c) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_binomial_cdf(con: duckdb.DuckDBPyConnection) -> None:
    for k, n, p in ((3, 10, 0.3), (0, 5, 0.5), (40, 100, 0.45), (9, 10, 0.9)):
        assert one(con, "binom_cdf(?, ?, ?)", k, n, p) == pytest.approx(binom_cdf(k, n, p), rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(n1=st.integers(1, 300), n2=st.integers(1, 300), data=st.data())
def test_two_proportions(con: duckdb.DuckDBPyConnection, n1: int, n2: int, data: st.DataObject) -> None:
    k1, k2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    pooled = (k1 + k2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    expected = 1.0 if var == 0 else 2 * (1 - NormalDist().cdf(abs(k1 / n1 - k2 / n2) / math.sqrt(var)))
    assert one(con, "two_prop_p(?, ?, ?, ?)", k1, n1, k2, n2) == pytest.approx(expected, abs=1e-6)
    low = one(con, "newcombe_low(?, ?, ?, ?)", k1, n1, k2, n2)
    high = one(con, "newcombe_high(?, ?, ?, ?)", k1, n1, k2, n2)
    assert -1.0 - 1e-12 <= low <= k1 / n1 - k2 / n2 <= high <= 1.0 + 1e-12


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), data=st.data())
def test_paired_difference_interval(con: duckdb.DuckDBPyConnection, n: int, data: st.DataObject) -> None:
    b = data.draw(st.integers(0, n))
    c = data.draw(st.integers(0, n - b))
    low, high = one(con, "paired_diff_low(?, ?, ?)", b, c, n), one(con, "paired_diff_high(?, ?, ?)", b, c, n)
    assert -1.0 <= low < high <= 1.0
    assert low <= (b - c + 0.0) / (n + 2) <= high
