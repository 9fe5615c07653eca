#!/usr/bin/env python3
"""The explorer's server at survey scale (issue 28): what a user waits for, and what the
server holds.

    .venv/bin/python scripts/benchmark_explore.py [--sizes 1000000 10000000] [--index-max N]

For each size, a finished iteration's files are written as the workflow writes them (the
pool's catalogue, an iteration's predictions, answers and config, the features store
with its map in 40 clumps, three classes at 97 / 2 / 1 %, a neighbour graph), then a
fresh process does what `alspec explore` does, timed:

- first map: what `alspec explore` does before serving (alspec.explorer.steps.prepared:
  every file read and joined, Datashader compiled meanwhile), the colouring by class
  and the map rendered through HoloViews and Datashader to Bokeh (900 x 520);
- redraw: the map rasterised again after a zoom into a tenth of the width and height
  (the range event the browser sends, through the same HoloViews streams);
- lasso: the points inside a polygon around about 10^5 of them;
- neighbour query: one spectrum's neighbours read from the stored graph;
- peak memory: that process's maximum resident size (VmHWM): the server's.

The index build (the neighbours rule's work: alspec.features.neighbours over the
standardised features) runs in a process of its own up to --index-max spectra, with its
own peak memory. Writes results/benchmarks/explore.json (runs of other sizes kept) and
prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from alspec import layout
from alspec.config.schema import resolve
from alspec.io import as_strings

OUT = Path("results/benchmarks/explore.json")


def peak_gb() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux keeps that
    across exec, so a spawned child would report its parent's peak."""
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1e6


WIDTH, HEIGHT = 900, 520
K = 20


def write_results(results: Path, n: int) -> None:
    """A finished iteration 0 of `n` spectra, as the workflow leaves it."""
    rng = np.random.default_rng(0)
    pool, folder = results / "pool", results / "iterations" / "0"
    folder.mkdir(parents=True)
    ids = np.char.mod("%09d", np.arange(n)).astype(object)
    classes = rng.choice(["other", "single_peak", "double_peak"], n, p=[0.97, 0.02, 0.01])
    pd.DataFrame(
        {"id": ids, "ra": rng.uniform(0, 360, n), "dec": rng.uniform(-10, 60, n),
         "snrr": rng.lognormal(3, 0.5, n), "subclass": rng.choice(["A0", "F5", "K2"], n),
         "shard": "00000", "row": np.arange(n)}
    ).to_parquet(pool.mkdir() or pool / layout.CATALOG, index=False)  # fmt: skip
    p = rng.dirichlet([8, 1, 1], n).astype(np.float32)
    pd.DataFrame(
        {"id": ids, "predicted": classes, "probability": p.max(axis=1), "p_other": p[:, 0],
         "p_single_peak": p[:, 1], "p_double_peak": p[:, 2], "entropy": rng.random(n)}
    ).to_parquet(folder / layout.PREDICTIONS, index=False)  # fmt: skip
    asked = rng.choice(n, 1000, replace=False)
    answers = pd.DataFrame({"id": ids[asked], "label": classes[asked]})
    answers.iloc[:900].to_parquet(folder / layout.TRAINING_SET, index=False)
    answers.iloc[900:].to_parquet(folder / layout.ANSWERS, index=False)
    answers.iloc[900:][["id"]].to_parquet(folder / layout.QUERY, index=False)
    centres = rng.uniform(-60, 60, size=(40, 2))
    xy = centres[rng.integers(0, 40, n)] + rng.normal(scale=3.0, size=(n, 2))
    xr.Dataset(
        {
            "pca": (("spectrum", "component"), rng.normal(size=(n, 6)).astype(np.float32)),
            "ew": (("spectrum", "line"), rng.normal(size=(n, 1)).astype(np.float32)),
            "map_coordinates": (("spectrum", "map_axis"), xy.astype(np.float32)),
        },
        coords={"id": ("spectrum", as_strings(list(ids))), "line": as_strings(["halpha"])},
    ).to_zarr(pool / layout.FEATURES, consolidated=False)
    graph = rng.integers(0, n, size=(n, K), dtype=np.int32)  # the query reads one row
    xr.Dataset(
        {"neighbours": (("spectrum", "neighbour"), graph)},
        coords={"id": ("spectrum", as_strings(list(ids)))},
    ).to_zarr(pool / layout.NEIGHBOURS, consolidated=False)
    (folder / layout.ITERATION_CONFIG).write_text(yaml.safe_dump(resolve({})))
    (folder / layout.PERFORMANCE).write_text("{}")


def serve_once(results: Path, queue: multiprocessing.Queue) -> None:
    """What the explorer's server does for one user, timed, in this process alone."""
    import holoviews as hv
    import panel  # noqa: F401  (the server's own imports count in its memory)
    from holoviews.plotting.util import get_nested_streams

    from alspec.explorer import charts
    from alspec.explorer.steps import prepared

    start = time.perf_counter()
    iteration, index = prepared(results, None)
    table = iteration.table
    colour, codes = charts.colouring(table, "predicted")
    view = charts.pool_map(table, "map_x", "map_y", colour, codes)
    plot = hv.renderer("bokeh").get_plot(view.opts(responsive=False, width=WIDTH, height=HEIGHT))
    first = time.perf_counter() - start
    x0, x1 = float(table["map_x"].min()), float(table["map_x"].max())
    y0, y1 = float(table["map_y"].min()), float(table["map_y"].max())
    zoom = {
        "x_range": (x0 + 0.45 * (x1 - x0), x0 + 0.55 * (x1 - x0)),
        "y_range": (y0 + 0.45 * (y1 - y0), y0 + 0.55 * (y1 - y0)),
    }
    ranged = [s for s in get_nested_streams(view) if isinstance(s, hv.streams.RangeXY)]
    start = time.perf_counter()
    ranged[0].event(**zoom)  # what a zoom in the browser sends: the map rasterised again
    redraw = time.perf_counter() - start
    image = next(r for r in plot.state.renderers if type(r.glyph).__name__ == "Image")
    assert image.data_source.data["dw"][0] < x1 - x0, "the zoom drew a new raster"
    lasso, lassoed = lasso_around(table["map_x"].to_numpy(), table["map_y"].to_numpy(), 100_000)
    index.of(0)  # the first question maps the graph's rows to the table's, once
    rows = np.random.default_rng(1).integers(0, len(table), 20)
    start = time.perf_counter()
    for row in rows:
        index.of(int(row))
    query = (time.perf_counter() - start) / len(rows)
    queue.put({
        "first_map_s": first, "redraw_s": redraw, "lasso_s": lasso, "lasso_points": lassoed,
        "neighbour_query_s": query, "table_mb": table.memory_usage(deep=True).sum() / 1e6,
        "server_peak_gb": peak_gb(),
    })  # fmt: skip


def lasso_around(x: np.ndarray, y: np.ndarray, wanted: int) -> tuple[float, int]:
    """Seconds to select the points in a square polygon holding about `wanted` of them."""
    from alspec.explorer.selection import inside_polygon

    wanted = min(wanted, len(x) // 2)
    cx, cy = float(np.median(x)), float(np.median(y))
    half = float(np.partition(np.maximum(abs(x - cx), abs(y - cy)), wanted)[wanted])
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    square = np.array([[cx + sx * half, cy + sy * half] for sx, sy in corners])
    start = time.perf_counter()
    rows = inside_polygon(x, y, square)
    return time.perf_counter() - start, len(rows)


def build_index(results: Path, queue: multiprocessing.Queue) -> None:
    """The neighbours rule's work over the features store, timed, in this process alone."""
    from alspec.features.neighbours import neighbours_dataset
    from alspec.pool.store import open_store

    features = open_store(results / "pool" / layout.FEATURES)
    start = time.perf_counter()
    neighbours_dataset(features, k=K, seed=0)
    queue.put({
        "index_build_s": time.perf_counter() - start,
        "index_peak_gb": peak_gb(),
    })  # fmt: skip


def in_own_process(work, results: Path) -> dict:
    """Run `work(results, queue)` in a fresh process, so its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=work, args=(results, queue))
    process.start()
    figures = queue.get()
    process.join()
    return figures


def cpu() -> str:
    """The CPU's model name, as lscpu says it: figures differ by CPU."""
    names = [
        line for line in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in line
    ]
    return names[0].split(":", 1)[1].strip() if names else platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--index-max", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            results = Path(folder) / "results"
            write_results(results, n)
            figures = {"spectra": n} | in_own_process(serve_once, results)
            build = n <= args.index_max
            figures |= in_own_process(build_index, results) if build else {"index_build_s": None}
        rows.append(figures)
        print(json.dumps(figures), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    earlier = json.loads(OUT.read_text())["runs"] if OUT.exists() else []
    kept = [r for r in earlier if r["spectra"] not in {r["spectra"] for r in rows}]
    rows = sorted(kept + rows, key=lambda r: r["spectra"])  # other sizes' runs are kept
    OUT.write_text(json.dumps({"cpu": cpu(), "runs": rows}, indent=2))
    print("| spectra | first map | redraw | lasso (points) | neighbours | server memory |", end="")
    print(" index build (memory) |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        index = r["index_build_s"]
        build = "not run" if index is None else f"{index:.0f} s ({r['index_peak_gb']:.1f} GB)"
        print(
            f"| {r['spectra']:,} | {r['first_map_s']:.1f} s | {r['redraw_s']:.2f} s |"
            f" {r['lasso_s']:.2f} s ({r['lasso_points']:,}) |"
            f" {r['neighbour_query_s'] * 1000:.1f} ms | {r['server_peak_gb']:.2f} GB | {build} |"
        )


if __name__ == "__main__":
    main()
