"""The simulated data set of seed 004 Table 1 (after Roberts et al. 2019): curves on 100
evenly spaced x in [0, 1], two inlier classes and three outlier classes with known
labels, to measure how anomaly ranking and relevance learning behave.

- class 0, inlier, 25,000: y = sin(omega x), omega ~ N(5, 2);
- class 1, inlier, 24,500: y = a x^2 + b x + c, a, b ~ N(0.5, 0.2), c ~ N(0, 0.2);
- class 2, outlier, 150: a step, y = h for x <= x0 else 0, h ~ N(1, 0.3), x0 ~ N(0.5, 0.2);
- class 3, outlier, 150: a Gaussian bump, y = A exp(-((x - mu) / w)^2), A ~ N(0.5, 0.2),
  mu ~ N(0.1, 0.05), w ~ N(1, 0.5);
- class 4, outlier, 150: y = 0.2 (sin(omega_1 x) + ... + sin(omega_5 x)), omega_i ~ N(30, 20).

Every curve gets Gaussian noise of sigma 0.1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from alspec.io import atomic_output, write_table
from alspec.layout import SPECTRA, TRUTH

POINTS = 100
NOISE = 0.1
COUNTS = {0: 25_000, 1: 24_500, 2: 150, 3: 150, 4: 150}
Curve = Callable[[np.ndarray, np.random.Generator, int], np.ndarray]


def _sine(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    omega = rng.normal(5, 2, (n, 1))
    return np.sin(omega * x)


def _parabola(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    a, b, c = rng.normal(0.5, 0.2, (n, 1)), rng.normal(0.5, 0.2, (n, 1)), rng.normal(0, 0.2, (n, 1))
    return a * x**2 + b * x + c


def _step(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    height, edge = rng.normal(1, 0.3, (n, 1)), rng.normal(0.5, 0.2, (n, 1))
    return np.where(x <= edge, height, 0.0)


def _bump(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    amplitude, centre = rng.normal(0.5, 0.2, (n, 1)), rng.normal(0.1, 0.05, (n, 1))
    width = rng.normal(1, 0.5, (n, 1))
    return amplitude * np.exp(-(((x - centre) / width) ** 2))


def _sum_of_sines(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    omegas = rng.normal(30, 20, (n, 5, 1))
    return 0.2 * np.sin(omegas * x).sum(axis=1)


CURVES: dict[int, Curve] = {0: _sine, 1: _parabola, 2: _step, 3: _bump, 4: _sum_of_sines}
OUTLIER_CLASSES = (2, 3, 4)
NAMES = {0: "sine", 1: "parabola", 2: "step", 3: "gaussian_bump", 4: "sum_of_sines"}


def simulate_curves(
    counts: Mapping[int, int] = COUNTS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x (100,), y (n, 100), class (n,)), the classes' rows shuffled together."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, 1.0, POINTS)
    y = np.vstack([CURVES[label](x, rng, count) for label, count in counts.items()])
    labels = np.concatenate([np.full(count, label) for label, count in counts.items()])
    y += rng.normal(0.0, NOISE, y.shape)
    order = rng.permutation(len(labels))
    return x, y[order], labels[order]


def as_table(x: np.ndarray, y: np.ndarray, prefix: str = "curve") -> pd.DataFrame:
    """One row per curve: its id, then one column per x (named by its value), the
    table-of-spectra layout that alspec's readers take."""
    table = pd.DataFrame(y, columns=[f"{value:.8g}" for value in x])  # the pool's grid points
    table.insert(0, "id", [f"{prefix}-{i:06d}" for i in range(len(y))])
    return table


def scaled_counts(n: int | None) -> dict[int, int]:
    """Table 1's counts, or scaled to about `n` objects in all (each class at least 1)."""
    if n is None:
        return dict(COUNTS)
    total = sum(COUNTS.values())
    return {label: max(1, round(count * n / total)) for label, count in COUNTS.items()}


def write_curves(out_dir: Path, n: int | None = None, seed: int = 0) -> pd.DataFrame:
    """OUT/spectra/curves.csv (one row per curve: id, then y at each x) and
    OUT/truth.parquet (id, label: the class's name); returns the truth."""
    x, y, labels = simulate_curves(scaled_counts(n), seed)
    table = as_table(x, y)
    truth = pd.DataFrame({"id": table["id"], "label": [NAMES[c] for c in labels]})
    with atomic_output(out_dir / SPECTRA) as directory:
        directory.mkdir()
        table.to_csv(directory / "curves.csv", index=False, float_format="%.6g")
    write_table(truth, out_dir / TRUTH)
    return truth
