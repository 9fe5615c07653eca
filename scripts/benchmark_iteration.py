#!/usr/bin/env python3
"""Wall time of one active-learning iteration (retrain, classify the whole pool, choose
the batch) for pools of 10^4 to 10^6 spectra, with the seed 003 CNN and `slim`, and the
CNN's inference against this machine's limit.

    .venv/bin/python scripts/benchmark_iteration.py [--sizes 10000 100000 1000000]

The limit: the network's FLOPs per spectrum against a dense float32 matrix multiply
measured on the same threads (and bfloat16's, for CPUs with AVX512_BF16 or AMX, or a
GPU). Inference is measured in one process over the same windows: Keras's
`model.predict` (the step's path before issue 20), the same pass compiled by XLA, the
traced forward pass the predict step uses (alspec.learning.cnn.Forward) in float32 and in
bfloat16 (`model.precision`); then the whole `alspec predict` step below, in each
precision.

Each step runs as the workflow runs it (`alspec train`, `alspec predict`, `alspec
query`, one process each, imports included) on this machine's cores. The pool is the
demo survey's window store (made by the workflow once) repeated under new ids up to the
size (the CNN's cost does not depend on what a window holds); the model trains on 1,000
labels of the survey's truth. Writes results/benchmarks/iteration.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from benchmark_ingest import BIN, ROOT, cpu_model, run

OUT = ROOT / "results" / "benchmarks" / "iteration"
SURVEY = OUT / "survey"
ISSUE_20_BEFORE = (
    "551 s an iteration at 10^6, inference 1,936 spectra/s (seed 003, AMD EPYC with AVX-512)"
)


def base_pool() -> Path:
    """The demo survey's window store, made by the workflow (once)."""
    window = SURVEY / "results" / "pool" / "window.zarr"
    if not window.exists():
        subprocess.run(
            [BIN / "snakemake", "--snakefile", ROOT / "Snakefile", "--directory", SURVEY,
             "--configfile", ROOT / "config" / "config.yaml", "--cores", str(os.cpu_count()),
             "results/pool/window.zarr"],
            check=True, env=os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}"},
        )  # fmt: skip
    return window


def pool_of(base: Path, n: int) -> Path:
    """A window store of `n` spectra: the base store's rows, repeated under new ids."""
    from alspec.io import as_strings
    from alspec.pool.store import append_block, open_store

    out = OUT / f"window-{n}.zarr"
    if out.exists():
        return out
    data = open_store(base).load()
    encoding = {"flux": {"chunks": (8192, data.sizes["window_wavelength"])}}
    tmp = out.with_name(out.name + ".partial")
    for start in range(0, n, 8192):
        rows = np.arange(start, min(start + 8192, n))
        block = data.isel(spectrum=rows % data.sizes["spectrum"])
        copy = rows // data.sizes["spectrum"]
        ids = [i if c == 0 else f"{c}-{i}" for c, i in zip(copy, block.id.values, strict=True)]
        append_block(block.assign_coords(id=("spectrum", as_strings(ids))), tmp, encoding)
    tmp.rename(out)
    return out


def training_set(base: Path, size: int, seed: int) -> Path:
    """`size` labelled spectra of the base survey, as a training-set table."""
    from alspec.pool.store import open_store

    window = open_store(base)
    ids = np.array([str(i) for i in window.id.values[window.valid.values]], dtype=object)
    truth = pd.read_parquet(SURVEY / "results" / "survey" / "truth.parquet").set_index("id")
    chosen = np.random.default_rng(seed).choice(ids, size, replace=False)
    out = OUT / f"training_set-{size}.parquet"
    pd.DataFrame({"id": chosen, "label": truth.loc[chosen, "label"].to_numpy()}).to_parquet(out)
    return out


def forward_flops(model) -> int:
    """Multiply-adds x 2 of one spectrum's forward pass (convolutions and dense layers)."""
    import keras

    flops = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv1D):
            length, filters = layer.output.shape[1:]
            flops += 2 * length * layer.kernel_size[0] * layer.input.shape[-1] * filters
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.input.shape[-1] * layer.units
    return flops


def matmul_rate(dtype: str, n: int = 2048, seconds: float = 1.0) -> float:
    """GFLOP/s of a dense n x n matrix multiply on TensorFlow's threads: what the cores
    can do at best, the CNN being matrix multiplies."""
    import tensorflow as tf

    a, b = (tf.cast(tf.random.normal((n, n), seed=s), dtype) for s in (1, 2))
    multiply = tf.function(tf.linalg.matmul)
    multiply(a, b).numpy()
    repeats, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        multiply(a, b).numpy()
        repeats += 1
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def xla(model) -> Callable:
    """The forward pass compiled by XLA in Forward's batches (whole ones only): what the
    predict step used before model.precision; the traced graph measured faster."""
    import tensorflow as tf

    from alspec.learning import cnn

    batch = cnn.INFERENCE_BATCH
    compiled = tf.function(
        lambda x: model(x, training=False),
        jit_compile=True,
        autograph=False,
        input_signature=[tf.TensorSpec((batch, *model.input_shape[1:]), tf.float32)],
    )
    return lambda w: np.concatenate(
        [compiled(w[start : start + batch, :, None]).numpy() for start in range(0, len(w), batch)]
    )


def inference_limit(architecture: str, threads: int, spectra: int, rounds: int = 3) -> dict:
    """FLOPs per spectrum, the matrix-multiply rates, and Keras's predict and the
    forward passes in spectra/s on `spectra` windows, as fractions of the limit.
    The machine is shared: each figure is the best of `rounds` rounds that alternate
    between the measurements, so that a busy moment does not favour one of them."""
    from alspec.learning import cnn

    cnn.use_threads(threads)
    model = cnn.build_cnn(140, 3, architecture)
    flops = forward_flops(model)
    spectra -= spectra % cnn.INFERENCE_BATCH  # whole batches, for the XLA pass
    x = np.random.default_rng(0).normal(size=(spectra, 140)).astype(np.float32)
    paths = {"keras_predict": lambda w: cnn.predict_proba(model, w), "xla_float32": xla(model)}
    paths |= {f"forward_{p}": cnn.pool_proba(model, precision=p) for p in cnn.PRECISIONS}
    for proba in paths.values():
        proba(x[: cnn.INFERENCE_BATCH])  # traced or compiled, warmed
    best: dict[str, float] = {}
    for _ in range(rounds):
        measured = {dtype: matmul_rate(dtype) for dtype in ("float32", "bfloat16")}
        for name, proba in paths.items():
            start = time.perf_counter()
            proba(x)
            measured[name] = spectra / (time.perf_counter() - start)
        best = {k: max(v, best.get(k, 0.0)) for k, v in measured.items()}
    limit = best["float32"] * 1e9 / flops
    return {
        "architecture": architecture,
        "forward_mflop": round(flops / 1e6, 2),
        "matmul_gflops": {k: round(best[k], 1) for k in ("float32", "bfloat16")},
        "limit_spectra_s": round(limit),
        "bfloat16_limit_spectra_s": round(best["bfloat16"] * 1e9 / flops),
        "spectra_s": {k: round(best[k]) for k in paths},
        "fraction_of_limit": {k: round(best[k] / limit, 3) for k in paths},
        "rounds": rounds,
    }


def alspec(step: str, *options: object) -> dict:
    seconds, memory = run([str(BIN / "alspec"), step, *map(str, options)])
    return {"seconds": round(seconds, 1), "peak_memory_mb": memory}


def iterations(
    window: Path, labels: Path, architecture: str, precisions: list[str], threads: int
) -> list[dict]:
    """One iteration's steps for each of `precisions`: the model trained once (training
    is float32 whatever model.precision), the pool classified in each precision."""
    work = OUT / f"{window.stem}-{architecture}"
    work.mkdir(exist_ok=True)
    train = alspec(
        "train", "--inputs", window, "--training-set", labels,
        "--set", f"model.architecture={architecture}", "--model", work / "model.keras",
        "--report", work / "training.json", "--threads", threads,
    )  # fmt: skip
    epochs = json.loads((work / "training.json").read_text())["epochs_run"]
    rows = []
    for precision in precisions:
        predictions = work / f"predictions-{precision}.parquet"
        steps = {
            "train": train,
            "predict": alspec(
                "predict", "--inputs", window, "--model", work / "model.keras",
                "--training-report", work / "training.json", "--out", predictions,
                "--set", f"model.precision={precision}", "--threads", threads,
            ),
            "query": alspec(
                "query", "--predictions", predictions, "--training-set", labels,
                "--out", work / "query.parquet", "--candidates", work / "candidates.parquet",
                "--set", "query.discovery.sources=[]",  # no features store here
            ),
        }  # fmt: skip
        seconds = round(sum(step["seconds"] for step in steps.values()), 1)
        rows.append(steps | {"precision": precision, "epochs": epochs, "iteration_s": seconds})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--architectures", nargs="+", default=["slim", "seed003"])
    parser.add_argument("--precisions", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--limit-spectra", type=int, default=20_480)
    parser.add_argument("--limit-of", help=argparse.SUPPRESS)  # one architecture's, as JSON
    args = parser.parse_args()
    if args.limit_of:
        print(json.dumps(inference_limit(args.limit_of, args.threads, args.limit_spectra)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    # in a process of its own: TensorFlow loaded here would count in every step's peak
    # memory (a child's peak includes what it was forked with)
    limits = [
        json.loads(
            subprocess.run(
                [sys.executable, __file__, "--limit-of", architecture,
                 "--threads", str(args.threads), "--limit-spectra", str(args.limit_spectra)],
                check=True, capture_output=True, text=True,
            ).stdout.splitlines()[-1]
        )
        for architecture in args.architectures
    ]  # fmt: skip
    for limit in limits:
        print(limit, flush=True)
    rows = []
    base = base_pool() if args.sizes else None
    labels = training_set(base, args.labels, seed=0) if base else None
    for n in args.sizes:
        window = pool_of(base, n)
        for architecture in args.architectures:
            for row in iterations(window, labels, architecture, args.precisions, args.threads):
                row = {"spectra": n, "architecture": architecture} | row
                print(row, flush=True)
                rows.append(row)
    report = {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "threads": args.threads,
        "labels": args.labels,
        "limits": limits,
        "rows": rows,
    }
    (OUT.parent / "iteration.json").write_text(json.dumps(report, indent=2))
    (OUT.parent / "iteration.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:
    limit_of = {limit["architecture"]: limit["limit_spectra_s"] for limit in report["limits"]}
    lines = [
        "# One iteration: retrain, classify the pool, choose the batch"
        " (scripts/benchmark_iteration.py)",
        "",
        f"{report['machine']}, {report['threads']} threads; {report['labels']} labels.",
        "",
        "## Inference against the limit",
        "",
        "Limit: the network's FLOPs per spectrum at the float32 matrix-multiply rate of the"
        " same threads. Each figure the best of alternating rounds (the machine is shared),"
        " on windows in memory.",
        "",
        "| CNN | MFLOP/spectrum | matmul float32 / bfloat16 GFLOP/s | limit spectra/s"
        " float32 / bfloat16 | Keras predict | XLA float32 | alspec float32"
        " | alspec bfloat16 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    paths = ("keras_predict", "xla_float32", "forward_float32", "forward_bfloat16")
    for limit in report["limits"]:
        speed, fraction = limit["spectra_s"], limit["fraction_of_limit"]
        lines.append(
            f"| {limit['architecture']} | {limit['forward_mflop']}"
            f" | {limit['matmul_gflops']['float32']} / {limit['matmul_gflops']['bfloat16']}"
            f" | {limit['limit_spectra_s']:,} / {limit['bfloat16_limit_spectra_s']:,}"
            + "".join(f" | {speed[k]:,} ({fraction[k]:.0%})" for k in paths)
            + " |"
        )
    lines += [
        "",
        "## The iteration, step by step",
        "",
        "Seconds per step (each a process, imports included); predict's spectra/s and"
        " its fraction of the float32 limit above; peak memory of predict. The model is"
        " trained once (float32) and the pool classified in each `model.precision`.",
        "",
        "| spectra | CNN | precision | train s (epochs) | predict s"
        " | predict spectra/s (of float32 limit) | predict peak MB | query s | iteration s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        predict = row["predict"]
        speed = row["spectra"] / predict["seconds"]
        lines.append(
            f"| {row['spectra']:,} | {row['architecture']} | {row['precision']}"
            f" | {row['train']['seconds']}"
            f" ({row['epochs']}) | {predict['seconds']}"
            f" | {speed:,.0f} ({speed / limit_of[row['architecture']]:.0%})"
            f" | {predict['peak_memory_mb']} | {row['query']['seconds']}"
            f" | **{row['iteration_s']}** |"
        )
    lines += ["", f"Before issue 20: {ISSUE_20_BEFORE}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
