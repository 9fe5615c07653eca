#!/usr/bin/env python3
"""Benchmark the report step: `alspec report` of one iteration of a large pool, its wall
time and peak memory on this machine's cores.

    .venv/bin/python scripts/benchmark_report.py [--sizes 100000 1000000]

Each size gets a synthetic finished run (built once, then reused) with every file the
step reads at full size: a pool of LAMOST-sized spectra (3,921 pixels, in Zarr shards of
100,000) and its catalogue, the Hα window store, a features store with map coordinates,
and two iterations' predictions, candidates, batches, answers and performance records
(the last made by the real evaluate step against a truth). The figures cost what they
would in a real run: datashader aggregates every spectrum for the map, the gallery reads
its spectra's chunks. Writes results/benchmarks/report.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))
from benchmark_ingest import BIN, ROOT, cpu_model, run

from alspec import layout
from alspec.config.schema import load
from alspec.config.settings import as_json, for_step
from alspec.evaluation.steps import evaluate as evaluate_iteration
from alspec.io import as_strings, write_json

WORK = ROOT / "results" / "benchmarks" / "report"
CLASSES = ["other", "single_peak", "double_peak"]
RATES = [0.98, 0.012, 0.008]
PIXELS, WINDOW, SHARD, BLOCK = 3921, 140, 100_000, 1024


def zarr_store(path: Path, ids: np.ndarray, variables: dict, coords: dict, attrs=None) -> None:
    """A store as the pipeline writes it: dims spectrum x ..., id a coordinate."""
    data = xr.Dataset(variables, coords={"id": ("spectrum", as_strings(ids)), **coords})
    data.attrs.update(attrs or {})
    data.to_zarr(path, mode="w", consolidated=False)


def spectra(n: int, pixels: int) -> da.Array:
    """`n` copies of one smooth spectrum, in blocks: cheap to write, read as real ones."""
    template = (1 + 0.3 * np.sin(np.linspace(0, 20, pixels))).astype(np.float32)
    return da.broadcast_to(template, (n, pixels), chunks=(BLOCK, pixels))


def build_pool(pool: Path, ids: np.ndarray, rng: np.random.Generator) -> None:
    n = len(ids)
    shards = []
    for number, start in enumerate(range(0, n, SHARD)):
        part = ids[start : start + SHARD]
        name = f"{number:05d}"
        flux = spectra(len(part), PIXELS)
        wavelength = 10 ** (3.5670 + 0.0001 * np.arange(PIXELS))
        zarr_store(
            pool / "shards" / name / "spectra.zarr",
            part,
            {
                "flux": (("spectrum", "wavelength"), flux),
                "ivar": (("spectrum", "wavelength"), flux),
            },
            {"wavelength": wavelength},
        )
        shards.append(pd.DataFrame({"id": part, "shard": name, "row": np.arange(len(part))}))
        print(f"  pool: shard {name} ({len(part):,} spectra)", flush=True)
    catalog = pd.concat(shards, ignore_index=True)
    catalog["snrr"] = np.exp(rng.uniform(np.log(8), np.log(80), n)).round(2)
    catalog.to_parquet(pool / "catalog.parquet", index=False)
    zarr_store(
        pool / "window.zarr",
        ids,
        {
            "flux": (("spectrum", "window_wavelength"), spectra(n, WINDOW)),
            "valid": ("spectrum", np.ones(n, bool)),
        },
        {"window_wavelength": np.linspace(6519, 6732, WINDOW)},
    )
    centres = rng.normal(scale=6, size=(12, 2))
    xy = centres[rng.integers(0, 12, n)] + rng.normal(size=(n, 2))
    zarr_store(
        pool / "features.zarr",
        ids,
        {"map_coordinates": (("spectrum", "map_axis"), xy.astype(np.float32))},
        {"map_axis": as_strings(["x", "y"])},
        {"map_method": "umap"},
    )


def build_iteration(folder: Path, n: int, ids, truth, settings, rng) -> None:
    """One finished iteration: predictions, candidates, batch, answers, performance."""
    folder.mkdir(parents=True, exist_ok=True)
    # mostly right: the true class's share plus noise, so that about 2 % are candidates
    truth_at = truth.set_index("id")["label"].reindex(ids).map(CLASSES.index).to_numpy()
    noise = rng.dirichlet([1.0, 1.0, 1.0], len(ids))
    probabilities = (0.6 * np.eye(3)[truth_at] + 0.4 * noise).astype(np.float32)
    predictions = pd.DataFrame({"id": ids, "predicted": np.array(CLASSES)[probabilities.argmax(1)]})
    predictions["probability"] = probabilities.max(1)
    for i, name in enumerate(CLASSES):
        predictions[f"p_{name}"] = probabilities[:, i]
    predictions["entropy"] = -(probabilities * np.log(probabilities + 1e-12)).sum(1)
    predictions.to_parquet(folder / "predictions.parquet", index=False)
    trained = truth.sample(1000 + 130 * n, random_state=n).assign(reason="uncertain", comment="")
    trained.to_parquet(folder / "training_set.parquet", index=False)
    rest = predictions.loc[~predictions["id"].isin(set(trained["id"]))]
    interest = rest.loc[rest["predicted"] != "other"]
    asked = pd.concat(
        [
            rest.nlargest(100, "entropy").assign(reason="uncertain"),
            interest.sample(30, random_state=n).assign(reason="random"),
        ]
    )
    query = asked.assign(score=asked["entropy"])[
        ["id", "score", "reason", "predicted", "probability"]
    ]
    query.to_parquet(folder / "query.parquet", index=False)
    answers = query.merge(truth, on="id")[["id", "label", "reason", "predicted"]]
    answers.to_parquet(folder / layout.ANSWERS, index=False)
    candidates = interest.rename(columns={"predicted": "label"})[["id", "label", "probability"]]
    candidates.assign(source="predicted").to_parquet(folder / "candidates.parquet", index=False)
    evaluate_iteration(
        iteration=n,
        labels=folder / layout.ANSWERS,
        training_set=folder / "training_set.parquet",
        predictions=folder / "predictions.parquet",
        candidates=folder / "candidates.parquet",
        out=folder / layout.PERFORMANCE,
        settings=settings,
        truth=WORK / f"truth-{len(ids)}.parquet",
    )


def build_run(n: int) -> Path:
    results = WORK / f"run-{n}" / "results"
    done = results / "iterations" / "1" / layout.PERFORMANCE
    if done.exists():
        return results
    rng = np.random.default_rng(0)
    ids = np.array([str(100_000_000 + i) for i in range(n)])
    truth = pd.DataFrame({"id": ids, "label": rng.choice(CLASSES, n, p=RATES)})
    truth.to_parquet(WORK / f"truth-{n}.parquet", index=False)
    build_pool(results / "pool", ids, rng)
    settings = for_step(load(ROOT / "config" / "config.yaml"), "evaluate")
    for iteration in (0, 1):
        build_iteration(
            results / "iterations" / str(iteration), iteration, ids, truth, settings, rng
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    settings = as_json(load(ROOT / "config" / "config.yaml"), "report")
    rows = []
    for n in args.sizes:
        print(f"{n:,} spectra: building the run (once)", flush=True)
        results = build_run(n)
        pool = results / "pool"
        command = [
            str(BIN / "alspec"),
            "report",
            str(results),
            "--iteration",
            "1",
            "--window",
            str(pool / "window.zarr"),
            "--features",
            str(pool / "features.zarr"),
            "--settings",
            settings,
        ]
        seconds, memory = run(command)
        rows.append({"spectra": n, "seconds": round(seconds, 1), "peak_memory_mb": memory})
        print(f"{n:,} spectra: report in {seconds:.1f} s, peak memory {memory} MB", flush=True)
    model = cpu_model()
    report = {"machine": f"{model}, {os.cpu_count()} cores", "sizes": rows}
    write_json(report, WORK.parent / "report.json")
    (WORK.parent / "report.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        f"# Report benchmark ({report['machine']})",
        "",
        "Wall time and peak memory of `alspec report` for one iteration (six figures: the",
        "learning curve, the map of every spectrum, the gallery of 42 spectra, the batch,",
        "the confusion matrices, the stopping advice), start-up included.",
        "",
        "| spectra | seconds | peak memory MB |",
        "|---|---|---|",
        *(
            f"| {r['spectra']:,} | {r['seconds']} | {r['peak_memory_mb']} |"
            for r in report["sizes"]
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
