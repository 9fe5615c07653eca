#!/usr/bin/env python3
"""Benchmark ingest: spectra/s per core, speed-up with 2 parallel shard jobs, peak memory
per shard job, bytes on disk per spectrum, and the Zarr codecs the choice rests on.

    .venv/bin/python scripts/benchmark_ingest.py [--sizes 1000 10000 100000]

Simulates LAMOST-format files with `alspec simulate` (10^4 distinct spectra; larger sets
repeat them under new OBSIDs, which costs the reader the same), runs `alspec ingest` as
a user's shard job would, and writes results/benchmarks/ingest.{json,md}. Files are in
the page cache after being written: the figures are for the CPU, not for the disk.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORK = ROOT / "results" / "benchmarks" / "ingest"
DISTINCT = 10_000


def cpu_model() -> str:
    """The CPU's model as `lscpu` names it (figures differ between kinds of CPU)."""
    listing = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    names = (line.split(":", 1)[1].strip() for line in listing.splitlines() if "Model name" in line)
    return next(names, "") or platform.processor() or platform.machine()


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall time (s) and peak resident memory (MB) of one command (`env`: its environment)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024


def simulated_files(n: int) -> list[Path]:
    """`n` LAMOST files: simulated ones, then copies with patched OBSID cards."""
    survey = WORK / "survey"
    if not (survey / "truth.parquet").exists():
        shutil.rmtree(survey, ignore_errors=True)
        subprocess.run(
            [
                BIN / "alspec",
                "simulate",
                "--out",
                survey,
                "--set",
                f"simulate.n_spectra={DISTINCT}",
                "--set",
                "simulate.seed=11",
                "--workers",
                "2",
            ],
            check=True,
        )
    base = sorted((survey / "spectra").iterdir())
    if n <= len(base):
        return base[:n]
    copies = WORK / f"copies-{n}"
    if not copies.exists():
        tmp = copies.with_name(copies.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for i in range(n - len(base)):
            raw = base[i % len(base)].read_bytes()
            card = f"OBSID   = {900_000_000 + i:>20d}".encode()
            raw = re.sub(rb"OBSID   = +\d+", card, raw, count=1)
            (tmp / f"copy-{i:07d}.fits").write_bytes(raw)
        tmp.rename(copies)
    return base + sorted(copies.iterdir())[: n - len(base)]


def warm(files: list[Path]) -> None:
    """Read every file once, so that timings measure ingest, not the disk."""
    for f in files:
        f.read_bytes()


def ingest(files: list[Path], name: str) -> tuple[float, int, Path]:
    warm(files)
    listing = WORK / f"{name}.txt"
    listing.write_text("".join(f"{f}\n" for f in files))
    shard = WORK / "shards" / name
    shutil.rmtree(shard, ignore_errors=True)
    seconds, memory = run([str(BIN / "alspec"), "ingest", str(listing), "--out", str(shard)])
    return seconds, memory, shard


def parallel(files: list[Path], jobs: int) -> float:
    """Wall time of `jobs` shard jobs run at once over `files`."""
    commands = []
    for j in range(jobs):
        listing = WORK / f"parallel-{j}.txt"
        listing.write_text("".join(f"{f}\n" for f in files[j::jobs]))
        shard = WORK / "shards" / f"parallel-{j}"
        shutil.rmtree(shard, ignore_errors=True)
        commands.append([str(BIN / "alspec"), "ingest", str(listing), "--out", str(shard)])
    warm(files)
    start = time.perf_counter()
    processes = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in commands
    ]
    if any(p.wait() for p in processes):
        raise RuntimeError("a parallel shard job failed")
    return time.perf_counter() - start


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def layouts(files: list[Path]) -> list[dict]:
    """Write and read 2,048 resampled spectra with each candidate codec and chunk shape:
    whole spectra are read to label and classify, the Hα window to extract it."""
    import xarray as xr
    from zarr.codecs import BloscCodec, ZstdCodec

    from alspec.pool.formats import read_spectra
    from alspec.pool.preprocess import log_wavelength_grid, resample

    grid = log_wavelength_grid(3689.776, 9100, 1e-4)
    rows = [
        resample(s.wavelength, s.flux, s.ivar, grid) for f in files[:2048] for s in read_spectra(f)
    ]
    dims = ("spectrum", "wavelength")
    data = xr.Dataset(
        {
            "flux": (dims, np.array([r[0] for r in rows], np.float32)),
            "ivar": (dims, np.array([r[1] for r in rows], np.float32)),
        }
    )
    lz4 = [BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle")]
    full = (1024, grid.size)
    candidates = [
        ("none", [], full),
        ("zstd level 3", [ZstdCodec(level=3)], full),
        ("blosc lz4, bit-shuffle", lz4, full),
        (
            "blosc zstd 3, byte shuffle",
            [BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")],
            full,
        ),
        (
            "blosc zstd 3, bit-shuffle",
            [BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")],
            full,
        ),
        ("blosc lz4, bit-shuffle", lz4, (1024, 512)),
        ("blosc lz4, bit-shuffle", lz4, (256, grid.size)),
    ]
    window = slice(int(np.searchsorted(grid, 6519)), int(np.searchsorted(grid, 6732)))
    results = []
    for name, compressors, chunks in candidates:
        store = WORK / "layout.zarr"
        shutil.rmtree(store, ignore_errors=True)
        encoding = {v: {"chunks": chunks, "compressors": compressors} for v in ("flux", "ivar")}
        start = time.perf_counter()
        data.to_zarr(store, mode="w", consolidated=False, encoding=encoding)
        write = time.perf_counter() - start
        start = time.perf_counter()
        xr.open_zarr(store, consolidated=False).load()
        read = time.perf_counter() - start
        start = time.perf_counter()
        xr.open_zarr(store, consolidated=False).isel(wavelength=window).load()
        read_window = time.perf_counter() - start
        results.append(
            {
                "codec": name,
                "chunks": list(chunks),
                "write_spectra_per_s": round(len(rows) / write),
                "read_spectra_per_s": round(len(rows) / read),
                "read_window_spectra_per_s": round(len(rows) / read_window),
                "bytes_per_spectrum": round(disk_bytes(store) / len(rows)),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    files = simulated_files(max(args.sizes))
    startup, _, _ = ingest(files[:1], "startup")
    sizes = []
    for n in args.sizes:
        seconds, memory, shard = ingest(files[:n], f"single-{n}")
        sizes.append(
            {
                "spectra": n,
                "seconds": round(seconds, 2),
                "spectra_per_s": round(n / seconds),
                "peak_memory_mb": memory,
                "bytes_per_spectrum": round(disk_bytes(shard) / n),
            }
        )
        print(sizes[-1], flush=True)
    for smaller, larger in itertools.pairwise(sizes):
        larger["marginal_spectra_per_s"] = round(
            (larger["spectra"] - smaller["spectra"]) / (larger["seconds"] - smaller["seconds"])
        )
    n = max(args.sizes)
    one = sizes[-1]["seconds"]
    two = parallel(files[:n], 2)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "startup_seconds": round(startup, 2),
        "single_shard": sizes,
        "parallel": {
            "spectra": n,
            "one_job_seconds": round(one, 2),
            "two_jobs_seconds": round(two, 2),
            "speed_up": round(one / two, 2),
        },
        "layouts": layouts(files),
    }
    (ROOT / "results" / "benchmarks").mkdir(parents=True, exist_ok=True)
    (ROOT / "results" / "benchmarks" / "ingest.json").write_text(json.dumps(report, indent=2))
    (ROOT / "results" / "benchmarks" / "ingest.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    lines = [
        f"# Ingest benchmark ({report['machine']})",
        "",
        f"Interpreter and imports: {report['startup_seconds']} s per job. Marginal spectra/s: "
        "(N2 - N1) / (t2 - t1) between two sizes, one core's steady rate without fixed costs.",
        "",
        "| spectra | seconds | spectra/s | marginal spectra/s | peak memory MB "
        "| bytes on disk per spectrum |",
        "|---|---|---|---|---|---|",
    ]
    for s in report["single_shard"]:
        lines.append(
            f"| {s['spectra']:,} | {s['seconds']} | {s['spectra_per_s']:,} | "
            f"{s.get('marginal_spectra_per_s', '')} | {s['peak_memory_mb']} | "
            f"{s['bytes_per_spectrum']:,} |"
        )
    p = report["parallel"]
    lines += [
        "",
        f"{p['spectra']:,} spectra: one shard job {p['one_job_seconds']} s, two "
        f"parallel jobs {p['two_jobs_seconds']} s: speed-up {p['speed_up']}.",
        "",
        "| codec | chunks (spectra, pixels) | write spectra/s | read spectra/s "
        "| read Hα window spectra/s | bytes per spectrum |",
        "|---|---|---|---|---|---|",
    ]
    for c in report["layouts"]:
        lines.append(
            f"| {c['codec']} | {c['chunks'][0]} x {c['chunks'][1]} | "
            f"{c['write_spectra_per_s']:,} | {c['read_spectra_per_s']:,} | "
            f"{c['read_window_spectra_per_s']:,} | {c['bytes_per_spectrum']:,} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
