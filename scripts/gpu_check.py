#!/usr/bin/env python3
"""Does the CNN use the GPU, how fast, and does it classify as the CPU does?

    make env GPU=1 && make gpu-check      # on a node with an NVIDIA GPU

Trains the seed 003 CNN on 10,000 labelled windows and classifies 10^6 windows read from
Zarr, each as the workflow runs it (`alspec train`, `alspec predict`, one process each,
imports included), then classifies the first 50,000 of them again with the GPU hidden
(CUDA_VISIBLE_DEVICES=-1) and compares. The windows are the demo survey's, repeated
under new ids (scripts/benchmark_iteration.py). Prints the device TensorFlow used, the
throughput and the agreement; writes results/benchmarks/gpu_check.{json,md}.
`--spectra 20000` makes a quick run anywhere (on a CPU it says so).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from benchmark_ingest import BIN, cpu_model, run
from benchmark_iteration import OUT, SURVEY, base_pool, pool_of

CHECK = OUT.parent / "gpu_check"
AGREEMENT_ROWS = 50_000


def labelled_windows(window: Path, size: int) -> Path:
    """`size` spectra of `window` with their true class, as a training set."""
    from alspec.pool.store import open_store

    ids = np.array([str(i) for i in open_store(window).id.values[:size]], dtype=object)
    truth = pd.read_parquet(SURVEY / "results" / "survey" / "truth.parquet").set_index("id")
    base = pd.Series(ids).str.split("-").str[-1]  # copies are named <copy>-<id>
    out = CHECK / f"training_set-{size}.parquet"
    pd.DataFrame({"id": ids, "label": truth.loc[base, "label"].to_numpy()}).to_parquet(out)
    return out


def alspec(*options: object, hide_gpu: bool = False) -> float:
    """Seconds one `alspec` step takes (with `hide_gpu`, TensorFlow sees no GPU)."""
    env = os.environ | {"CUDA_VISIBLE_DEVICES": "-1"} if hide_gpu else None
    return run([str(BIN / "alspec"), *map(str, options)], env=env)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectra", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    CHECK.mkdir(parents=True, exist_ok=True)
    window = pool_of(base_pool(), args.spectra)
    labels = labelled_windows(window, args.labels)
    model, report = CHECK / "model.keras", CHECK / "training.json"
    train_s = alspec(
        "train", "--inputs", window, "--training-set", labels, "--model", model,
        "--report", report, "--threads", args.threads,
    )  # fmt: skip
    training = json.loads(report.read_text())
    predict = ("predict", "--inputs", window, "--model", model, "--training-report", report,
               "--threads", args.threads)  # fmt: skip
    predict_s = alspec(*predict, "--out", CHECK / "predictions.parquet")
    # the first part of about AGREEMENT_ROWS again, the GPU hidden
    parts = max(1, args.spectra // AGREEMENT_ROWS)
    alspec(*predict, "--set", f"model.predict_jobs={parts}", "--out", CHECK / "cpu.parquet",
           hide_gpu=True)  # fmt: skip
    cpu = pd.read_parquet(CHECK / "cpu.parquet")
    device = pd.read_parquet(CHECK / "predictions.parquet").iloc[: len(cpu)]
    columns = [c for c in cpu if c.startswith("p_")]
    result = {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "device": training["device"],
        "train": {"windows": args.labels, "seconds": round(train_s, 1),
                  "epochs": training["epochs_run"],
                  "seconds_per_epoch": round(train_s / training["epochs_run"], 2)},
        "predict": {"windows": args.spectra, "seconds": round(predict_s, 1),
                    "spectra_s": round(args.spectra / predict_s)},
        "agreement": {"compared": len(cpu),
                      "same_class": float((cpu["predicted"] == device["predicted"]).mean()),
                      "max_probability_difference": float(
                          np.abs(cpu[columns].to_numpy() - device[columns].to_numpy()).max())},
    }  # fmt: skip
    (CHECK.parent / "gpu_check.json").write_text(json.dumps(result, indent=2))
    (CHECK.parent / "gpu_check.md").write_text(markdown(result))
    print(markdown(result))
    if result["device"] == "CPU":
        print("TensorFlow saw no GPU: `make env GPU=1` on a node with an NVIDIA GPU and driver")


def markdown(result: dict) -> str:
    train, predict, agreement = result["train"], result["predict"], result["agreement"]
    return (
        "# GPU check (scripts/gpu_check.py)\n\n"
        f"{result['machine']}; TensorFlow ran on **{result['device']}**.\n\n"
        f"- train the seed 003 CNN on {train['windows']:,} windows: {train['seconds']} s,"
        f" {train['epochs']} epochs ({train['seconds_per_epoch']} s an epoch, start-up"
        " included)\n"
        f"- classify {predict['windows']:,} windows from Zarr: {predict['seconds']} s,"
        f" **{predict['spectra_s']:,} spectra/s** (start-up included)\n"
        f"- against the CPU on the first {agreement['compared']:,}: same class for"
        f" {agreement['same_class']:.4%}, probabilities within"
        f" {agreement['max_probability_difference']:.1e}\n"
    )


if __name__ == "__main__":
    main()
