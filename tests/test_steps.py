"""Each workflow step called as a library function, as a notebook or script would."""

from __future__ import annotations

import pandas as pd

from alspec import settings
from alspec.inference import predict_part
from alspec.pool import open_store
from alspec.training import train_iteration


def test_train_then_predict_as_functions(pool, survey, tmp_path):
    truth = pd.read_parquet(survey / "truth.parquet")
    truth.groupby("label").head(20)[["id", "label"]].to_parquet(tmp_path / "labels.parquet")
    tiny = ["model.architecture=slim", "model.epochs=2", "model.predict_jobs=2"]
    report = train_iteration(
        inputs=[pool / "window.zarr"],
        training_set=tmp_path / "labels.parquet",
        model_path=tmp_path / "model.keras",
        report_path=tmp_path / "training.json",
        settings=settings.read("train", overrides=tiny),
        threads=2,
    )
    assert report["type"] == "cnn" and report["architecture"] == "slim"
    assert sum(report["examples"].values()) == 60
    done = predict_part(
        inputs=pool / "window.zarr",
        model_path=tmp_path / "model.keras",
        out=tmp_path / "part.parquet",
        settings=settings.read("predict", overrides=tiny),
        training_report=tmp_path / "training.json",
        block_size=64,
        threads=2,
    )
    first_half = open_store(pool / "window.zarr").valid.values[:128]  # blocks 0, 1 of 0..3
    assert done == {"spectra": first_half.sum(), "part": 0, "parts": 2, "device": "CPU"}
    assert len(pd.read_parquet(tmp_path / "part.parquet")) == first_half.sum()
