"""The drift statistics of the companion server (server/src/monitoring/statistics.ts) give what
SciPy gives on the same inputs, within 1e-6 (absolute or relative).

One `node` process evaluates every case of a test (monitoring_statistics_harness.mjs reads a JSON
batch on stdin and prints the results), against the compiled server/dist.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import REPO, _ensure_server_built
from scipy import stats
from scipy.spatial import distance

HARNESS = Path(__file__).with_name("monitoring_statistics_harness.mjs")
TOLERANCE = 1e-6


@pytest.fixture(scope="module", autouse=True)
def built_server() -> None:
    _ensure_server_built()
    assert (REPO / "server" / "dist" / "monitoring" / "statistics.js").exists()


def evaluate(cases: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    batch = json.dumps([{"name": name, "args": args} for name, args in cases])
    completed = subprocess.run(["node", str(HARNESS)], input=batch, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    for (name, args), result in zip(cases, results, strict=True):
        assert "error" not in result, f"{name}({str(args)[:200]}): {result['error']}"
    return [result["value"] for result in results]


def assert_close(actual: float, expected: float, what: str) -> None:
    if np.isnan(expected):
        assert actual is None or np.isnan(actual), f"{what}: {actual} != nan"
        return
    difference = abs(actual - expected)
    assert difference <= TOLERANCE or difference <= TOLERANCE * abs(expected), f"{what}: {actual} != {expected}"


def rounded(values: np.ndarray) -> list[float]:
    return [float(value) for value in values]


def sample_pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs of samples: tiny to 20k values, equal and different distributions, many ties."""
    rng = np.random.default_rng(20260101)
    pairs = []
    sizes = [(1, 1), (1, 5), (3, 4), (5, 7), (10, 10), (25, 40), (50, 80), (100, 1000), (999, 1000)]
    sizes += [(1000, 1000), (5000, 300), (20000, 1000), (20000, 20000), (3, 20000), (150, 151)]
    for first, second in sizes:
        for shift in (0.0, 0.1, 0.5, 2.0):
            pairs.append((rng.normal(0, 1, first), rng.normal(shift, 1, second)))
        # Ties: a few distinct values only.
        pairs.append((rng.integers(0, 5, first).astype(float), rng.integers(0, 6, second).astype(float)))
        pairs.append((rng.exponential(1, first).round(1), rng.exponential(1.3, second).round(1)))
    return pairs


def test_ks_two_sample_matches_scipy_asymptotic() -> None:
    pairs = sample_pairs()
    cases = []
    for a, b in pairs:
        cases.append(("ks", {"a": rounded(a), "b": rounded(b)}))
        cases.append(("ksAgainstSorted", {"a": rounded(a), "b": rounded(b)}))
    results = evaluate(cases)
    for index, (a, b) in enumerate(pairs):
        expected = stats.ks_2samp(a, b, method="asymp")
        for result in results[2 * index : 2 * index + 2]:
            what = f"ks_2samp sizes {a.size}, {b.size} (pair {index})"
            assert_close(result["statistic"], float(expected.statistic), what + " statistic")
            assert_close(result["pValue"], float(expected.pvalue), what + " p-value")
    assert len(pairs) == 90


def test_kolmogorov_distribution_matches_scipy_kstwo_in_every_regime() -> None:
    """kstwo.sf and .cdf over sizes and statistics that reach each of SciPy's methods (Ruben-Gambino,
    Durbin matrix, Pomeranz, Pelz-Good, 2·smirnov) and the one-sided smirnov itself."""
    sizes = [1, 2, 3, 5, 10, 37, 91, 140, 141, 500, 999, 1000, 5000, 50000, 100001]
    statistics = [0.0, 1e-4, 0.001, 0.004, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.6, 0.9, 1.0]
    grid = [(d, n) for n in sizes for d in statistics]
    # Statistics around the regime boundaries of each size (n·d, n·d² and n·d^1.5 cut-offs).
    for n in sizes:
        for boundary in (0.5 / n, 1 / n, 1.5 / n, np.sqrt(0.754693 / n), np.sqrt(2.2 / n), np.sqrt(4 / n)):
            for factor in (0.97, 1.03):
                if boundary * factor < 1:
                    grid.append((float(boundary * factor), n))
        grid.append((float((1.4 / n) ** (2 / 3) * 0.98), n))
    cases = [("kolmogorovSurvival", {"d": d, "n": n}) for d, n in grid]
    cases += [("kolmogorovCumulative", {"d": d, "n": n}) for d, n in grid]
    cases += [("smirnovSurvival", {"d": d, "n": n}) for d, n in grid]
    results = evaluate(cases)
    count = len(grid)
    for index, (d, n) in enumerate(grid):
        assert_close(results[index], float(stats.kstwo.sf(d, n)), f"kstwo.sf({d}, {n})")
        assert_close(results[count + index], float(stats.kstwo.cdf(d, n)), f"kstwo.cdf({d}, {n})")
        assert_close(results[2 * count + index], float(stats.ksone.sf(d, n)), f"smirnov({n}, {d})")


def test_chi_square_matches_scipy() -> None:
    rng = np.random.default_rng(7)
    cases = []
    inputs = []
    for categories in (2, 3, 5, 12, 30, 101, 150):
        for _ in range(6):
            reference = rng.integers(0, 200, categories).astype(float)
            observed = rng.multinomial(int(rng.integers(1, 5000)), rng.dirichlet(np.ones(categories))).astype(float)
            # Expected from the reference proportions smoothed by +0.5 (never zero), as drift does.
            expected = (reference + 0.5) / (reference + 0.5).sum() * observed.sum()
            inputs.append((observed, expected))
            cases.append(("chiSquare", {"observed": rounded(observed), "expected": rounded(expected)}))
    results = evaluate(cases)
    for (observed, expected), result in zip(inputs, results, strict=True):
        reference = stats.chisquare(observed, expected)
        assert_close(result["statistic"], float(reference.statistic), "chisquare statistic")
        assert_close(result["pValue"], float(reference.pvalue), "chisquare p-value")
        assert result["degreesOfFreedom"] == observed.size - 1


def test_wasserstein_distance_matches_scipy_with_and_without_weights() -> None:
    rng = np.random.default_rng(11)
    inputs = []
    for first, second in [(1, 1), (1, 4), (5, 3), (50, 70), (1000, 800), (20000, 1000), (20000, 20000)]:
        u, v = rng.normal(0, 1, first), rng.normal(0.3, 2, second)
        inputs.append((u, v, None, None))
        inputs.append((u, v, rng.uniform(0, 3, first), rng.uniform(0, 3, second)))
        ties_u, ties_v = rng.integers(0, 4, first).astype(float), rng.integers(0, 4, second).astype(float)
        inputs.append((ties_u, ties_v, None, rng.integers(0, 5, second).astype(float) + 1))
    cases = [
        (
            "wasserstein",
            {
                "u": rounded(u),
                "v": rounded(v),
                "uWeights": None if uw is None else rounded(uw),
                "vWeights": None if vw is None else rounded(vw),
            },
        )
        for u, v, uw, vw in inputs
    ]
    # Histograms on the same uniform bins, as drift compares them.
    centres = np.arange(64) * 0.25 + 0.125
    histograms = [(rng.integers(0, 100, 64).astype(float), rng.integers(0, 100, 64).astype(float)) for _ in range(10)]
    histograms.append((np.r_[np.zeros(32), np.ones(32)], np.r_[np.ones(32), np.zeros(32)]))
    cases += [("wassersteinOnUniformBins", {"u": rounded(u), "v": rounded(v), "width": 0.25}) for u, v in histograms]
    results = evaluate(cases)
    for (u, v, uw, vw), result in zip(inputs, results[: len(inputs)], strict=True):
        assert_close(result, float(stats.wasserstein_distance(u, v, uw, vw)), f"wasserstein sizes {u.size}, {v.size}")
    for (u, v), result in zip(histograms, results[len(inputs) :], strict=True):
        assert_close(result, float(stats.wasserstein_distance(centres, centres, u, v)), "wasserstein on bins")


def test_jensen_shannon_distance_matches_scipy() -> None:
    rng = np.random.default_rng(13)
    inputs = []
    for size in (1, 2, 3, 10, 64, 200):
        for _ in range(5):
            p, q = rng.integers(0, 50, size).astype(float), rng.uniform(0, 1, size)
            p[0] += 1  # not all zero
            if size > 2:
                q[1] = 0.0  # a category the other side never saw
            inputs.append((p, q))
    inputs.append((np.array([1.0, 0.0]), np.array([0.0, 1.0])))
    inputs.append((np.array([3.0, 3.0, 4.0]), np.array([3.0, 3.0, 4.0])))
    cases = [("jensenShannon", {"p": rounded(p), "q": rounded(q), "base": 2}) for p, q in inputs]
    cases += [("jensenShannon", {"p": rounded(p), "q": rounded(q), "base": np.e}) for p, q in inputs]
    results = evaluate(cases)
    for index, (p, q) in enumerate(inputs):
        assert_close(results[index], float(distance.jensenshannon(p, q, base=2)), f"jensenshannon base 2 case {index}")
        expected_natural = float(distance.jensenshannon(p, q, base=np.e))
        assert_close(results[len(inputs) + index], expected_natural, f"jensenshannon base e case {index}")


def test_population_stability_index_matches_the_numpy_formula() -> None:
    rng = np.random.default_rng(17)
    inputs = []
    for size in (2, 10, 64):
        for epsilon in (1e-4, 1e-2):
            expected, actual = rng.integers(0, 100, size).astype(float), rng.integers(0, 100, size).astype(float)
            expected[0] += 1
            actual[-1] += 1
            expected[size // 2] = 0  # an empty bin: floored at epsilon
            inputs.append((expected, actual, epsilon))
    cases = [("psi", {"expected": rounded(e), "actual": rounded(a), "epsilon": eps}) for e, a, eps in inputs]
    results = evaluate(cases)
    for (expected, actual, epsilon), result in zip(inputs, results, strict=True):
        e = np.maximum(expected / expected.sum(), epsilon)
        a = np.maximum(actual / actual.sum(), epsilon)
        assert_close(result, float(np.sum((a - e) * np.log(a / e))), "psi")


def test_benjamini_hochberg_matches_scipy_false_discovery_control() -> None:
    rng = np.random.default_rng(19)
    inputs = [np.array([0.5]), np.array([0.01, 0.01, 0.01]), np.array([1.0, 0.0, 0.5])]
    for size in (2, 5, 20, 200):
        inputs.append(rng.uniform(0, 1, size))
        inputs.append(rng.uniform(0, 0.05, size) ** 2)
        inputs.append(rng.choice([0.001, 0.02, 0.04, 0.3], size))  # ties
    results = evaluate([("benjaminiHochberg", {"pValues": rounded(p)}) for p in inputs])
    for p, result in zip(inputs, results, strict=True):
        expected = stats.false_discovery_control(p, method="bh")
        assert len(result) == p.size
        for actual_value, expected_value in zip(result, expected, strict=True):
            assert_close(actual_value, float(expected_value), f"false_discovery_control size {p.size}")
