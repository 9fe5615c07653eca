#!/usr/bin/env python3
"""Benchmark handing over: the cross-match of the candidates with a large catalogue, and
an SQL filter over a large pool catalogue, each timed as a process with its peak memory.

    .venv/bin/python scripts/benchmark_catalogue.py [--candidates 100000] [--rows 10000000]

The catalogue (Parquet: id, ra, dec, uniform on the sky) and the pool catalogue (id, ra,
dec, snrr, subclass, as `alspec gather` writes it) are synthetic, built once under
results/benchmarks/catalogue/; half the candidates lie within 1" of a catalogue row.
Writes results/benchmarks/catalogue.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from benchmark_ingest import BIN, ROOT, cpu_model, run

WORK = ROOT / "results" / "benchmarks" / "catalogue"
SUBCLASSES = np.array(["A0", "B2", "B5", "B9", "F5", "G2", "K3", "M0"])


def sky(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`n` positions uniform on the sphere, in degrees."""
    return rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def build(rows: int, candidates: int) -> dict[str, Path]:
    """The big catalogue, the candidates and the pool catalogue (once per size)."""
    paths = {
        "catalogue": WORK / f"known-{rows}.parquet",
        "candidates": WORK / f"candidates-{candidates}.parquet",
        "results": WORK / f"results-{rows}",
    }
    rng = np.random.default_rng(0)
    if not paths["catalogue"].exists():
        print(f"building a catalogue of {rows:,} rows (once)", flush=True)
        ra, dec = sky(rows, rng)
        pd.DataFrame({"star": np.arange(rows), "RAJ2000": ra, "DEJ2000": dec}).to_parquet(
            paths["catalogue"], row_group_size=1_000_000
        )
    if not paths["candidates"].exists():
        known = pd.read_parquet(paths["catalogue"], columns=["RAJ2000", "DEJ2000"])
        picked = known.sample(candidates // 2, random_state=0).to_numpy()
        offset = rng.normal(scale=0.5 / 3600, size=picked.shape)  # about 0.5" away
        ra, dec = sky(candidates - len(picked), rng)
        positions = np.vstack([picked + offset, np.column_stack([ra, dec])])
        ids = [str(i) for i in range(candidates)]
        pd.DataFrame({"id": ids, "ra": positions[:, 0], "dec": positions[:, 1]}).to_parquet(
            paths["candidates"]
        )
    pool = paths["results"] / "pool" / "catalog.parquet"
    if not pool.exists():
        print(f"building a pool catalogue of {rows:,} rows (once)", flush=True)
        pool.parent.mkdir(parents=True)
        ra, dec = sky(rows, rng)
        table = pd.DataFrame(
            {
                "id": [str(100_000_000 + i) for i in range(rows)],
                "ra": ra,
                "dec": dec,
                "snrr": np.exp(rng.uniform(np.log(5), np.log(100), rows)).round(2),
                "subclass": SUBCLASSES[rng.integers(0, len(SUBCLASSES), rows)],
            }
        )
        table.to_parquet(pool, row_group_size=1_000_000)
    return paths


def crossmatch_job(catalogue: Path, candidates: Path) -> None:
    """One cross-match as the catalogue step runs it (called in a child process)."""
    from alspec.handover.crossmatch import crossmatch

    spec = {"name": "known", "path": str(catalogue), "id": "star", "ra": "RAJ2000"}
    spec |= {"dec": "DEJ2000", "radius_arcsec": 2.0}
    _, counts = crossmatch(pd.read_parquet(candidates), [spec])
    print(json.dumps(counts))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--crossmatch-job", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.crossmatch_job:
        crossmatch_job(*args.crossmatch_job)
        return
    WORK.mkdir(parents=True, exist_ok=True)
    paths = build(args.rows, args.candidates)
    script = [
        sys.executable,
        __file__,
        "--crossmatch-job",
        str(paths["catalogue"]),
        str(paths["candidates"]),
    ]
    seconds, memory = run(script)
    figures = {"crossmatch": {"seconds": round(seconds, 1), "peak_memory_mb": memory}}
    print(
        f"cross-match {args.candidates:,} with {args.rows:,}: {seconds:.1f} s, {memory} MB",
        flush=True,
    )
    query = "SELECT count(*) AS n FROM catalog WHERE snrr > 50 AND subclass = 'B5' AND dec > 0"
    command = [str(BIN / "alspec"), "sql", query, "--results", str(paths["results"])]
    seconds, memory = run(command)
    startup, _ = run([str(BIN / "alspec"), "sql", "SELECT 1", "--results", str(WORK / "none")])
    figures["sql_filter"] = {
        "query": query, "seconds": round(seconds, 1), "startup_seconds": round(startup, 1),
        "peak_memory_mb": memory,
    }  # fmt: skip
    print(f"SQL filter over {args.rows:,} rows: {seconds:.1f} s, {memory} MB", flush=True)
    model = cpu_model()
    report = {"machine": model, "candidates": args.candidates, "rows": args.rows, **figures}
    (WORK.parent / "catalogue.json").write_text(json.dumps(report, indent=2))
    (WORK.parent / "catalogue.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    cross, sql = report["crossmatch"], report["sql_filter"]
    return "\n".join(
        [
            f"# Handing over ({report['machine']}, 2 cores)",
            "",
            "| task | seconds | peak memory MB |",
            "|---|---|---|",
            f'| cross-match {report["candidates"]:,} candidates with {report["rows"]:,} rows (2") '
            f"| {cross['seconds']} | {cross['peak_memory_mb']} |",
            f"| `alspec sql` filter over {report['rows']:,} catalogue rows "
            f"| {sql['seconds']} ({sql['startup_seconds']} start-up) | {sql['peak_memory_mb']} |",
            "",
            f"The filter: `{sql['query']}`.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
