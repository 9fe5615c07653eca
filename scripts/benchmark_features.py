#!/usr/bin/env python3
"""Benchmark the Dask steps: `alspec window` and `alspec features` in spectra/s on this
machine's cores, and their peak memory, for pools of growing size.

    .venv/bin/python scripts/benchmark_features.py [--sizes 10000 100000] [--threads 2]

The pools are the ingest benchmark's simulated LAMOST shards (built first if missing, see
scripts/benchmark_ingest.py), gathered into a pool as the workflow does. Each step runs as
a user's job would, with the configuration's defaults (UMAP map, PCA on a 20,000-spectrum
sample). Writes results/benchmarks/features.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from benchmark_ingest import BIN, ROOT, WORK, ingest, run, simulated_files

POOLS = ROOT / "results" / "benchmarks" / "features"


def pool_of(n: int) -> Path:
    """A gathered pool of `n` spectra in one shard (the ingest benchmark's, reused)."""
    shard = WORK / "shards" / f"single-{n}"
    if not (shard / "spectra.zarr").exists():
        ingest(simulated_files(n), f"single-{n}")
    pool = POOLS / f"pool-{n}"
    shutil.rmtree(pool, ignore_errors=True)
    (pool / "shards" / "lists").mkdir(parents=True)
    shutil.copy(WORK / f"single-{n}.txt", pool / "shards" / "lists" / "00000.txt")
    (pool / "shards" / "00000").symlink_to(shard.resolve())
    subprocess.run(
        [
            BIN / "alspec",
            "gather",
            pool / "shards" / "00000",
            "--lists",
            pool / "shards" / "lists",
            "--catalog",
            pool / "catalog.parquet",
            "--quarantine",
            pool / "quarantine.parquet",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return pool


def step(name: str, pool: Path, n: int, threads: int, *options: str) -> dict:
    out = pool / f"{name}.zarr"
    seconds, memory = run(
        [
            str(BIN / "alspec"),
            name,
            "--pool",
            str(pool),
            "--out",
            str(out),
            "--threads",
            str(threads),
            *options,
        ]
    )
    shutil.rmtree(out)
    return {
        "seconds": round(seconds, 1),
        "spectra_per_s": round(n / seconds),
        "peak_memory_mb": memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        pool = pool_of(n)
        row = {"spectra": n, "window": step("window", pool, n, args.threads)}
        print(row, flush=True)
        umap, none = "features.map.method=umap", "features.map.method=none"
        row["features"] = step("features", pool, n, args.threads, "--set", umap)
        row["features_without_map"] = step("features", pool, n, args.threads, "--set", none)
        print(row, flush=True)
        rows.append(row)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "threads": args.threads,
        "sizes": rows,
    }
    POOLS.parent.mkdir(parents=True, exist_ok=True)
    (POOLS.parent / "features.json").write_text(json.dumps(report, indent=2))
    (POOLS.parent / "features.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        f"# Window and features benchmark ({report['machine']}, {report['threads']} threads)",
        "",
        "Wall time of each `alspec` step as a job, start-up (about 5 s) included; features:",
        "PCA fitted on a sample of 20,000, Hα measurements, and the UMAP map fitted on 10,000",
        "and applied to every spectrum (numba compiles UMAP at each run: about a minute).",
        "",
        "| spectra | step | seconds | spectra/s | peak memory MB |",
        "|---|---|---|---|---|",
    ]
    for row in report["sizes"]:
        for name in ("window", "features", "features_without_map"):
            s = row[name]
            label = name.replace("_", " ")
            lines.append(
                f"| {row['spectra']:,} | {label} | {s['seconds']} | {s['spectra_per_s']:,} "
                f"| {s['peak_memory_mb']} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
