#!/usr/bin/env python3
"""Wall time of one active-learning iteration: retrain, classify the whole pool, choose
the batch, for pools of 10^4, 10^5 and 10^6 spectra, with the seed 003 CNN and `slim`.

    .venv/bin/python scripts/benchmark_iteration.py [--sizes 10000 100000 1000000]

Each step runs as the workflow runs it (`alspec train`, `alspec predict`, `alspec query`,
one process each, imports included) on this machine's cores. The pools are the label-
efficiency benchmark's simulated survey (scripts/benchmark_learning.py builds it): its
first 10^4 windows, all 10^5, and 10^6 made of ten copies of them under new ids (the
CNN's cost does not depend on what a window holds). The model trains on 1,000 labels of
the survey's truth. Writes results/benchmarks/iteration.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from benchmark_ingest import BIN, run
from benchmark_learning import WORK, build_pool

OUT = WORK.parent / "iteration"
SEED_003_TABLE_4_2 = {1_000: 974, 10_000: 785, 100_000: 1015, 1_000_000: 1264}  # s, mean


def pool_of(base: Path, n: int) -> Path:
    """A window store of `n` spectra: the base store's rows, repeated under new ids."""
    from alspec.io import as_strings
    from alspec.pool import append_block, open_store

    out = OUT / f"window-{n}.zarr"
    if out.exists():
        return out
    data = open_store(base)
    encoding = {"flux": {"chunks": (8192, data.sizes["window_wavelength"])}}
    tmp = out.with_name(out.name + ".partial")
    for start in range(0, n, 8192):
        rows = np.arange(start, min(start + 8192, n))
        block = data.isel(spectrum=rows % data.sizes["spectrum"]).load()
        copy = rows // data.sizes["spectrum"]
        ids = [i if c == 0 else f"{c}-{i}" for c, i in zip(copy, block.id.values, strict=True)]
        append_block(block.assign_coords(id=("spectrum", as_strings(ids))), tmp, encoding)
    tmp.rename(out)
    return out


def training_set(base: Path, size: int, within: int, seed: int) -> Path:
    """`size` labelled spectra drawn from the survey's first `within` (so that every pool
    holds them), as a training-set table."""
    from alspec.pool import open_store

    window = open_store(base).isel(spectrum=slice(0, within))
    ids = window.id.values[window.valid.values].astype(object)
    truth = pd.read_parquet(WORK / "results" / "survey" / "truth.parquet").set_index("id")
    chosen = np.random.default_rng(seed).choice(ids, size, replace=False)
    out = OUT / f"training_set-{size}.parquet"
    pd.DataFrame({"id": chosen, "label": truth.loc[chosen, "label"].to_numpy()}).to_parquet(out)
    return out


def alspec(step: str, *options: object) -> dict:
    seconds, memory = run([str(BIN / "alspec"), step, *map(str, options)])
    return {"seconds": round(seconds, 1), "peak_memory_mb": memory}


def iteration(window: Path, labels: Path, architecture: str, threads: int) -> dict:
    work = OUT / f"{window.stem}-{architecture}"
    work.mkdir(exist_ok=True)
    steps = {
        "train": alspec(
            "train", "--inputs", window, "--training-set", labels,
            "--set", f"model.architecture={architecture}", "--model", work / "model.keras",
            "--report", work / "training.json", "--threads", threads,
        ),
        "predict": alspec(
            "predict", "--inputs", window, "--model", work / "model.keras",
            "--training-report", work / "training.json",
            "--out", work / "predictions.parquet", "--threads", threads,
        ),
        "query": alspec(
            "query", "--predictions", work / "predictions.parquet", "--training-set", labels,
            "--out", work / "query.parquet", "--candidates", work / "candidates.parquet",
            "--set", "query.discovery.sources=[]",  # no features store here
        ),
    }  # fmt: skip
    steps["epochs"] = json.loads((work / "training.json").read_text())["epochs_run"]
    steps["iteration_s"] = round(
        sum(s["seconds"] for s in steps.values() if isinstance(s, dict)), 1
    )
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--architectures", nargs="+", default=["slim", "seed003"])
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    base = build_pool()
    labels = training_set(base, args.labels, min(args.sizes), seed=0)
    rows = []
    for n in args.sizes:
        window = pool_of(base, n)
        for architecture in args.architectures:
            row = {"spectra": n, "architecture": architecture}
            row |= iteration(window, labels, architecture, args.threads)
            print(row, flush=True)
            rows.append(row)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "threads": args.threads,
        "labels": args.labels,
        "rows": rows,
    }
    (OUT.parent / "iteration.json").write_text(json.dumps(report, indent=2))
    (OUT.parent / "iteration.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        "# One iteration: retrain, classify the pool, choose the batch"
        " (scripts/benchmark_iteration.py)",
        "",
        f"{report['machine']}, {report['threads']} threads; {report['labels']} labels;"
        " seconds per step (each a process, imports included), peak memory of predict.",
        "",
        "| spectra | CNN | train s (epochs) | predict s | predict spectra/s | predict peak MB"
        " | query s | iteration s | seed 003 Table 4.2, s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        predict = row["predict"]
        paper = SEED_003_TABLE_4_2.get(row["spectra"], "")
        lines.append(
            f"| {row['spectra']:,} | {row['architecture']} | {row['train']['seconds']}"
            f" ({row['epochs']}) | {predict['seconds']}"
            f" | {row['spectra'] / predict['seconds']:,.0f} | {predict['peak_memory_mb']}"
            f" | {row['query']['seconds']} | **{row['iteration_s']}** | {paper} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
