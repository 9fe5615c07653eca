#!/usr/bin/env python3
"""Time and peak memory of the steps that see the whole pool at once, at 10^6 and 10^7
spectra: gather, gather-predictions, query (batch and candidates), evaluate, provenance
and the candidates' catalogue (issue 20: none may need more than 4 GB).

    .venv/bin/python scripts/benchmark_scale.py [--sizes 1000000 10000000]

The inputs are synthetic, no FITS files: 100 shards of catalogue rows, each with a
Zarr store of the right shape and no data written (gather only checks its size); a
window store of 140-point windows, sealed as the window step seals it; predictions in
10 parts; a truth table; 10^4 answers and the answers to one batch. Each step runs as
the workflow runs it (`alspec <step>`, one process, imports included). Provenance is
measured twice: checking the window store's seal, and hashing the whole store as before
issue 20 (its seal moved aside). Writes results/benchmarks/scale.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from benchmark_ingest import BIN, ROOT, cpu_model, run

OUT = ROOT / "results" / "benchmarks" / "scale"
CLASSES = ["other", "single_peak", "double_peak"]
SHARDS = 100
PARTS = 10
LABELS = 10_000
BLOCK = 1 << 16
MEMORY_GOAL_MB = 4096


def ids_of(start: int, stop: int) -> np.ndarray:
    return np.array([f"{400_000_000 + i}" for i in range(start, stop)], dtype=object)


def write_shards(work: Path, n: int) -> list[Path]:
    """SHARDS shard folders and lists: catalogue rows, an empty quarantine, and a Zarr
    store of the shard's shape with no data (gather checks its size only)."""
    import dask.array as da
    import xarray as xr

    from alspec.pool.ingest import QUARANTINE_COLUMNS

    rng = np.random.default_rng(0)
    lists, shards = work / "pool" / "lists", []
    lists.mkdir(parents=True)
    for shard, rows in enumerate(np.array_split(np.arange(n), SHARDS)):
        folder = work / "pool" / "shards" / f"{shard:05d}"
        (folder / "catalog").mkdir(parents=True)
        ids = ids_of(rows[0], rows[-1] + 1)
        files = "results/survey/spectra/spec-" + pd.Series(ids) + ".fits"
        (lists / f"{folder.name}.txt").write_text("\n".join(files) + "\n")
        pd.DataFrame(
            {
                "id": ids, "file": files, "file_row": None,
                "ra": rng.uniform(0, 360, len(ids)), "dec": rng.uniform(-10, 70, len(ids)),
                "class": "STAR", "subclass": "G4", "z": rng.normal(0, 1e-4, len(ids)),
                "snrr": rng.lognormal(3, 0.6, len(ids)), "mag1": rng.uniform(12, 18, len(ids)),
                "row": np.arange(len(ids)),
            }
        ).to_parquet(folder / "catalog" / "part-00000.parquet")  # fmt: skip
        pd.DataFrame(columns=QUARANTINE_COLUMNS).to_parquet(folder / "quarantine.parquet")
        flux = da.zeros((len(ids), 3909), dtype=np.float32, chunks=(1024, 3909))
        xr.Dataset({"flux": (("spectrum", "wavelength"), flux)}).to_zarr(
            folder / "spectra.zarr", compute=False, consolidated=False
        )
        shards.append(folder)
    return shards


def write_window(work: Path, n: int) -> Path:
    """n windows of 140 points in chunks of 1,024 (the pool's block), sealed."""
    import xarray as xr

    from alspec.evaluation.provenance import seal
    from alspec.io import as_strings

    store = work / "pool" / "window.zarr"
    tile = np.random.default_rng(1).normal(size=(BLOCK, 140)).astype(np.float32)
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        block = xr.Dataset(
            {
                "flux": (("spectrum", "window_wavelength"), tile[: stop - start]),
                "valid": ("spectrum", np.ones(stop - start, bool)),
            },
            coords={"id": ("spectrum", as_strings(ids_of(start, stop)))},
        )
        if start == 0:
            block.to_zarr(store, mode="w", consolidated=False,
                          encoding={"flux": {"chunks": (1024, 140)}, "id": {"chunks": (1024,)},
                                    "valid": {"chunks": (1024,)}})  # fmt: skip
        else:
            block.to_zarr(store, append_dim="spectrum", consolidated=False)
    seal(store)
    return store


def write_tables(work: Path, n: int) -> None:
    """Prediction parts, the truth, 10^4 answers and a training report."""
    rng = np.random.default_rng(2)
    interest = 0.004
    label = rng.choice(CLASSES, n, p=[1 - interest, interest * 0.6, interest * 0.4])
    ids = ids_of(0, n)
    pd.DataFrame({"id": ids, "label": label, "snr": rng.lognormal(3, 0.6, n)}).to_parquet(
        work / "truth.parquet"
    )
    (work / "parts").mkdir()
    for part, rows in enumerate(np.array_split(np.arange(n), PARTS)):
        logits = rng.normal(size=(len(rows), 3)).astype(np.float32)
        logits[:, 0] += 5
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        pd.DataFrame(
            {
                "id": ids[rows], "predicted": np.asarray(CLASSES, dtype=object)[p.argmax(1)],
                "probability": p.max(1), **{f"p_{c}": p[:, i] for i, c in enumerate(CLASSES)},
                "entropy": -(p * np.log2(p)).sum(1),
            }
        ).to_parquet(work / "parts" / f"{part}.parquet")  # fmt: skip
    answered = rng.choice(n, LABELS, replace=False)
    answers(ids[answered], label[answered], "cold_start").to_parquet(work / "training_set.parquet")
    (work / "training.json").write_text(
        json.dumps({"validation_f1": 0.8, "device": "CPU", "job": {}, "epochs_run": 10})
    )


def answers(ids: np.ndarray, labels: np.ndarray, batch: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": ids, "label": labels, "comment": "", "annotator": "simulated", "batch": batch,
         "reason": batch, "predicted": None}
    )  # fmt: skip


def make_inputs(n: int) -> Path:
    """The synthetic inputs of a pool of n spectra (made once)."""
    work = OUT / str(n)
    if not (work / "done").exists():
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        write_shards(work, n)
        write_window(work, n)
        write_tables(work, n)
        (work / "done").touch()
    return work


def answer_batch(work: Path) -> None:
    """The true answers to the query step's batch, as the oracle's labels."""
    it = work / "iteration"
    batch = pd.read_parquet(it / "query.parquet")
    truth = pd.read_parquet(work / "truth.parquet", columns=["id", "label"]).set_index("id")
    labels = truth.loc[batch["id"], "label"].to_numpy()
    answers(batch["id"].to_numpy(), labels, "0").to_parquet(it / "labels.parquet")


def helper(*options: object) -> None:
    """Run this script's own preparation in a process of its own: a step's peak memory
    counts what the process that started it held, so this one stays small."""
    subprocess.run([sys.executable, __file__, *map(str, options)], check=True)


def alspec(step: str, *options: object) -> dict:
    seconds, memory = run([str(BIN / "alspec"), step, *map(str, options)])
    print(f"  {step}: {seconds:.1f} s, {memory} MB", flush=True)
    return {"seconds": round(seconds, 1), "peak_memory_mb": memory}


def steps(work: Path) -> dict:
    """Each whole-pool step on the inputs in `work`, in the workflow's order."""
    from alspec.config.schema import resolve

    pool, it = work / "pool", work / "iteration"
    it.mkdir(exist_ok=True)
    shards = sorted((pool / "shards").iterdir())
    parts = sorted((work / "parts").glob("*.parquet"), key=lambda p: int(p.stem))
    measured = {
        "gather": alspec("gather", *shards, "--lists", pool / "lists",
                         "--catalog", pool / "catalog.parquet",
                         "--quarantine", pool / "quarantine.parquet"),
        "gather_predictions": alspec("gather-predictions", *parts,
                                     "--out", it / "predictions.parquet"),
        "query": alspec("query", "--predictions", it / "predictions.parquet",
                        "--training-set", work / "training_set.parquet",
                        "--out", it / "query.parquet", "--candidates", it / "candidates.parquet",
                        "--set", "query.discovery.sources=[]"),
    }  # fmt: skip
    helper("--answer-batch", work)
    measured["evaluate"] = alspec(
        "evaluate", "--iteration", 0, "--labels", it / "labels.parquet",
        "--training-set", work / "training_set.parquet",
        "--predictions", it / "predictions.parquet", "--candidates", it / "candidates.parquet",
        "--truth", work / "truth.parquet", "--training-report", work / "training.json",
        "--out", it / "performance.json",
    )  # fmt: skip
    config = json.dumps(resolve({}))
    provenance = (
        "--iteration", 0, "--config-json", config, "--input", f"store={pool / 'window.zarr'}",
        "--input", f"training_set={work / 'training_set.parquet'}",
        "--product", f"predictions={it / 'predictions.parquet'}",
        "--product", f"query={it / 'query.parquet'}",
        "--product", f"candidates={it / 'candidates.parquet'}",
        "--product", f"labels={it / 'labels.parquet'}",
        "--training-report", work / "training.json", "--repository", ROOT,
        "--out", it / "provenance.json",
    )  # fmt: skip
    measured["provenance"] = alspec("provenance", *provenance)
    sealed = pool / "window.zarr.checksum.json"
    sealed.rename(sealed.with_suffix(".aside"))
    try:
        measured["provenance_hashing_the_store"] = alspec("provenance", *provenance)
    finally:
        sealed.with_suffix(".aside").rename(sealed)
    measured["catalogue"] = alspec(
        "catalogue", "--iteration", 0, "--candidates", it / "candidates.parquet",
        "--answers", work / "training_set.parquet", it / "labels.parquet",
        "--catalog", pool / "catalog.parquet", "--performance", it / "performance.json",
        "--provenance", it / "provenance.json", "--out", it / "catalogue",
    )  # fmt: skip
    measured["candidates"] = len(pd.read_parquet(it / "candidates.parquet", columns=["id"]))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--make-inputs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--answer-batch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_inputs:
        make_inputs(args.make_inputs)
        return
    if args.answer_batch:
        answer_batch(args.answer_batch)
        return
    rows = []
    for n in args.sizes:
        print(f"{n:,} spectra", flush=True)
        helper("--make-inputs", n)
        rows.append({"spectra": n, **steps(OUT / str(n))})
    report = {"machine": f"{cpu_model()}, {os.cpu_count()} cores", "rows": rows}
    (OUT.parent / "scale.json").write_text(json.dumps(report, indent=2))
    (OUT.parent / "scale.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    names = [k for k, v in report["rows"][0].items() if isinstance(v, dict)]
    lines = [
        "# The whole-pool steps at scale (scripts/benchmark_scale.py)",
        "",
        f"{report['machine']}; each step one `alspec` process, imports included:"
        f" seconds / peak resident MB (goal: at most {MEMORY_GOAL_MB:,} MB).",
        "",
        "| step | " + " | ".join(f"{row['spectra']:,} spectra" for row in report["rows"]) + " |",
        "|---|" + "---|" * len(report["rows"]),
    ]
    for name in names:
        cells = [
            f"{row[name]['seconds']} s / {row[name]['peak_memory_mb']:,} MB"
            for row in report["rows"]
        ]
        lines.append(f"| {name.replace('_', ' ')} | " + " | ".join(cells) + " |")
    lines.append(
        "| candidates | " + " | ".join(f"{row['candidates']:,}" for row in report["rows"]) + " |"
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
