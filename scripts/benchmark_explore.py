#!/usr/bin/env python3
"""The explorer's server at survey scale (issue 28): what a user waits for.

    .venv/bin/python scripts/benchmark_explore.py [--sizes 1000000 10000000] [--index-max N]

For each size, a pool table of that many spectra is made in memory as alspec.explorer.
tables.load makes one (map coordinates in clumps, three classes at 97 / 2 / 1 %,
probabilities, scores, answers, metadata), then the server's own functions are timed:

- first map: the pool table read from Parquet (as load reads the catalogue, predictions
  and features) and made compact, the colouring by class and the first rasterisation of
  the whole map (Datashader, 900 x 520 pixels, as the page's plot);
- redraw: rasterising again after a zoom into a tenth of the width;
- lasso: the points inside a polygon drawn around about 10^5 of them;
- index build: the neighbour graph (alspec.features.neighbours, k 20) over 20 features,
  only up to --index-max spectra (its time grows as n log n; say what was not run);
- neighbour query: one spectrum's neighbours read from the stored graph (Zarr);
- peak memory: the process's maximum resident size after all of the above.

Writes results/benchmarks/explore.json and prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from pathlib import Path

import datashader as ds
import numpy as np
import pandas as pd
import xarray as xr

from alspec.explorer import charts, selection
from alspec.explorer.tables import compact
from alspec.features.neighbours import neighbour_graph
from alspec.io import as_strings

OUT = Path("results/benchmarks/explore.json")
WIDTH, HEIGHT = 900, 520


def pool_table(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """A pool's explorer table of `n` spectra, in clumps as a UMAP map draws them."""
    centres = rng.uniform(-60, 60, size=(40, 2))
    clump = rng.integers(0, len(centres), n)
    xy = centres[clump] + rng.normal(scale=3.0, size=(n, 2))
    classes = rng.choice(["other", "single_peak", "double_peak"], n, p=[0.97, 0.02, 0.01])
    p = rng.dirichlet([8, 1, 1], n).astype(np.float32)
    answer = np.where(rng.random(n) < 0.001, classes, None)
    table = pd.DataFrame(
        {
            "id": pd.array(np.char.mod("%09d", np.arange(n)).astype(object), dtype="str"),
            "ra": rng.uniform(0, 360, n), "dec": rng.uniform(-10, 60, n),
            "snrr": rng.lognormal(3, 0.5, n), "predicted": classes,
            "probability": p.max(axis=1), "p_other": p[:, 0], "p_single_peak": p[:, 1],
            "p_double_peak": p[:, 2], "entropy": rng.random(n), "map_x": xy[:, 0],
            "map_y": xy[:, 1], "answer": answer, "in_batch": rng.random(n) < 1e-5,
        }
    )  # fmt: skip
    return compact(table)


def rasterised(table: pd.DataFrame, codes: np.ndarray, x_range=None, y_range=None) -> float:
    """Seconds to aggregate the map by class (rarest on top) over a view."""
    frame = pd.DataFrame({"x": table["map_x"], "y": table["map_y"], charts.CODE: codes})
    start = time.perf_counter()
    canvas = ds.Canvas(WIDTH, HEIGHT, x_range=x_range, y_range=y_range)
    canvas.points(frame, "x", "y", ds.max(charts.CODE))
    return time.perf_counter() - start


def lasso_around(table: pd.DataFrame, wanted: int) -> tuple[float, int]:
    """Seconds to select the points in a square polygon holding about `wanted` of them."""
    x, y = table["map_x"].to_numpy(), table["map_y"].to_numpy()
    cx, cy = float(np.median(x)), float(np.median(y))
    distance = np.maximum(abs(x - cx), abs(y - cy))
    half = float(np.partition(distance, wanted)[wanted])
    square = np.array(
        [
            [cx - half, cy - half],
            [cx + half, cy - half],
            [cx + half, cy + half],
            [cx - half, cy + half],
        ]
    )
    start = time.perf_counter()
    rows = selection.inside_polygon(x, y, square)
    return time.perf_counter() - start, len(rows)


def neighbour_times(n: int, build: bool, rng: np.random.Generator, folder: Path) -> dict:
    """The index build (when `build`) and one neighbour query from the stored graph; a
    graph of random rows stands in where the build was not run (the query reads one
    row either way)."""
    k, out = 20, {}
    if build:
        features = rng.normal(size=(n, 20)).astype(np.float32)
        start = time.perf_counter()
        graph, _ = neighbour_graph(features, k=k, seed=0)
        out["index_build_s"] = time.perf_counter() - start
        del features
    else:
        graph = rng.integers(0, n, size=(n, k), dtype=np.int32)
        out["index_build_s"] = None
    ids = pd.Series(np.char.mod("%09d", np.arange(n)).astype(object))
    store = folder / f"neighbours-{n}.zarr"
    xr.Dataset(
        {"neighbours": (("spectrum", "neighbour"), graph)},
        coords={"id": ("spectrum", as_strings(list(ids)))},
    ).to_zarr(store, mode="w", consolidated=False)
    index = selection.Neighbours(store, ids)
    start = time.perf_counter()
    for row in rng.integers(0, n, 20):
        index.of(int(row))
    out["neighbour_query_s"] = (time.perf_counter() - start) / 20
    return out


def measure(n: int, index_max: int, folder: Path) -> dict:
    rng = np.random.default_rng(0)
    saved = folder / f"pool-{n}.parquet"
    pool_table(n, rng).to_parquet(saved, index=False)
    start = time.perf_counter()
    table = compact(pd.read_parquet(saved))
    _, codes = charts.colouring(table, "predicted")
    first = time.perf_counter() - start + rasterised(table, codes)
    x0, x1 = float(table["map_x"].min()), float(table["map_x"].max())
    y0, y1 = float(table["map_y"].min()), float(table["map_y"].max())
    zoom = (x0 + 0.45 * (x1 - x0), x0 + 0.55 * (x1 - x0))
    redraw = rasterised(table, codes, zoom, (y0 + 0.45 * (y1 - y0), y0 + 0.55 * (y1 - y0)))
    lasso, lassoed = lasso_around(table, min(100_000, n // 2))
    figures = {
        "spectra": n, "first_map_s": first, "redraw_s": redraw, "lasso_s": lasso,
        "lasso_points": lassoed, "table_mb": table.memory_usage(deep=True).sum() / 1e6,
    }  # fmt: skip
    figures |= neighbour_times(n, n <= index_max, rng, folder)
    figures["peak_memory_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--index-max", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            rows.append(measure(n, args.index_max, Path(folder)))
            print(json.dumps(rows[-1]), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"cpu": platform.processor(), "runs": rows}, indent=2))
    print("| spectra | first map | redraw | lasso (points) | index build | neighbours |", end="")
    print(" table | peak memory |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        build = "not run" if r["index_build_s"] is None else f"{r['index_build_s']:.0f} s"
        print(
            f"| {r['spectra']:,} | {r['first_map_s']:.1f} s | {r['redraw_s']:.2f} s |"
            f" {r['lasso_s']:.2f} s ({r['lasso_points']:,}) | {build} |"
            f" {r['neighbour_query_s'] * 1000:.1f} ms | {r['table_mb']:.0f} MB |"
            f" {r['peak_memory_gb']:.2f} GB |"
        )


if __name__ == "__main__":
    main()
