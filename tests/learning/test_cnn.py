"""The CNN of seed 003: its shape, deterministic training, and inference over a pool."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from alspec.config import schema as cfg
from alspec.evaluation import provenance
from alspec.learning import cnn
from alspec.learning.inference import predict_pool
from alspec.pool.store import open_store
from alspec.query.batch import select_batch
from alspec.query.strategies import entropy

from conftest import run_alspec


def test_seed003_architecture():
    model = cnn.build_cnn(140, 3, "seed003")
    conv = [layer for layer in model.layers if layer.__class__.__name__ == "Conv1D"]
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert [layer.filters for layer in conv] == [64, 64, 128, 128, 256, 256]
    assert all(layer.kernel_size == (3,) for layer in conv)
    assert [layer.units for layer in dense] == [512, 512, 3]
    # 140 -> 70 -> 35 -> 17 after three 2-pixel poolings, times 256 filters
    assert model.get_layer(index=-6).output.shape[-1] == 17 * 256
    assert model.count_params() == 2_874_947
    assert cnn.build_cnn(140, 3, "slim").count_params() < model.count_params() / 10


def toy_windows(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Flat noise, or a bump in the middle (class 1), or two bumps (class 2)."""
    y = np.arange(n) % 3
    x = rng.normal(0, 0.3, (n, 140)).astype(np.float32)
    grid = np.arange(140)
    for i, label in enumerate(y):
        centres = {0: [], 1: [70], 2: [60, 80]}[label]
        for c in centres:
            x[i] += 3 * np.exp(-0.5 * ((grid - c) / 3) ** 2)
    return x, y


def fit(x, y, **settings) -> tuple:
    model = cfg.default("model") | {"epochs": 2, "batch_size": 16, "seed": 3} | settings
    fitting = cnn.Fitting.from_config(model)
    return cnn.train(x, y, 3, "slim", fitting)


def test_training_twice_gives_identical_weights(rng):
    x, y = toy_windows(rng)
    first, report = fit(x, y)
    second, _ = fit(x, y)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert report["epochs_run"] == len(report["history"]["loss"]) == 2
    # 20 % of each class of 20 held out to validate
    assert report["validation_examples"] == 12 and report["training_examples"] == 48


def test_training_stops_when_validation_stops_improving(rng):
    x, y = toy_windows(rng, 90)
    _, report = fit(x, y, epochs=200, patience=2, learning_rate=3e-3)
    assert report["epochs_run"] < 200, "early stopping ended it"
    assert report["validation_f1"] > 0.9
    losses = report["history"]["val_loss"]
    # the weights kept are the best epoch's, not the last one's
    best = int(np.argmin(losses))
    assert report["epochs_run"] - 1 - best == 2


def test_mc_dropout_passes_form_a_reproducible_committee(rng):
    x, y = toy_windows(rng)
    model, _ = fit(x, y, epochs=5)
    committee = cnn.dropout_committee(model, members=8, seed=1, batch_size=25)(x)
    assert committee.shape == (8, 60, 3)
    np.testing.assert_allclose(committee.sum(-1), 1, rtol=1e-5)
    assert not np.allclose(committee[0], committee[1]), "each pass drops other units"
    again = cnn.dropout_committee(model, members=8, seed=1)(x)
    np.testing.assert_allclose(committee, again, rtol=1e-5)
    # dropout off, the head is the plain model
    plain = cnn.predict_proba(model, x)
    assert np.abs(committee.mean(0) - plain).mean() < 0.1
    # the convolutions in bfloat16: the same committee to bfloat16's rounding
    rounded = cnn.dropout_committee(model, members=8, seed=1, precision="bfloat16")(x)
    np.testing.assert_allclose(rounded, committee, atol=0.02)


def test_the_traced_forward_pass_is_keras_own(rng):
    x, y = toy_windows(rng, 90)
    model, _ = fit(x, y, epochs=3)
    reference = cnn.predict_proba(model, x)
    for batch_size in (32, 90, 4096):  # padded last batch, one batch, one padded batch
        traced = cnn.pool_proba(model, batch_size)(x)
        np.testing.assert_allclose(traced, reference, atol=1e-5)
    assert cnn.pool_proba(model)(x[:0]).shape == (0, 3)


def test_predictions_cover_the_pool(pool, tmp_path, rng):
    x, y = toy_windows(rng)
    model, _ = fit(x, y, epochs=15, seed=0, validation_fraction=0)
    assert (cnn.predict_proba(model, x).argmax(1) == y).mean() > 0.9, "it learns the shapes"
    classes = ["other", "single_peak", "double_peak"]
    tables = {}
    for path, proba in {
        "keras": lambda windows: cnn.predict_proba(model, windows),
        "float32": cnn.pool_proba(model, batch_size=48),
        "bfloat16": cnn.pool_proba(model, batch_size=48, precision="bfloat16"),
    }.items():
        out = tmp_path / f"{path}.parquet"
        n = predict_pool(proba, pool / "window.zarr", classes, out, block_size=64)
        tables[path] = pd.read_parquet(out)
    table = tables["float32"]
    assert len(table) == n > 150 and table["id"].is_unique
    p = table[["p_other", "p_single_peak", "p_double_peak"]].to_numpy()
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(table["entropy"], entropy(p), rtol=1e-5)
    assert (table["predicted"] == np.array(classes)[p.argmax(1)]).all()

    # the pool's paths, float32 and bfloat16, classify as Keras's own and ask the same batch
    def batch(t: pd.DataFrame) -> set[str]:
        """The spectra the strategy asks (their order may differ where entropies tie to
        1e-6); no estimate sample, whose strata follow q to its last digit."""
        chosen = select_batch(
            t.assign(score=t["entropy"]), [], classes[1:], 20, 0, np.random.default_rng(0)
        )
        return set(chosen["id"])

    reference = tables["keras"]
    for path in ("float32", "bfloat16"):
        assert (tables[path]["predicted"] == reference["predicted"]).mean() >= 0.999, path
        assert batch(tables[path]) == batch(reference), path


def test_train_and_predict_a_dropout_committee_by_hand(pool, survey, tmp_path):
    truth = pd.read_parquet(survey / "truth.parquet")
    labelled = truth.groupby("label").head(20)[["id", "label"]]
    labelled.to_parquet(tmp_path / "labels.parquet")
    run_alspec(
        "train", "--inputs", pool / "window.zarr", "--training-set", tmp_path / "labels.parquet",
        "--set", "model.architecture=slim", "--set", "model.epochs=2", "--iteration", 4,
        "--model", tmp_path / "model.keras", "--checkpoints", tmp_path / "checkpoints",
        "--report", tmp_path / "training.json", "--threads", 2,
    )  # fmt: skip
    report = json.loads((tmp_path / "training.json").read_text())
    assert report["balance"] == "smote" and report["validation_examples"] == 12
    (checkpoint,) = (tmp_path / "checkpoints").iterdir()
    assert (
        checkpoint.name.startswith("iteration-004_val-f1-")
        and report["checkpoint"] == checkpoint.name
    )
    run_alspec(
        "predict", "--inputs", pool / "window.zarr", "--model", tmp_path / "model.keras",
        "--set", "query.strategy=bald", "--set", "query.committee.members=5",
        "--part", 1, "--set", "model.predict_jobs=2", "--set", "model.predict_block_size=64",
        "--training-report", tmp_path / "training.json", "--out", tmp_path / "part.parquet",
    )  # fmt: skip
    table = pd.read_parquet(tmp_path / "part.parquet")
    window = open_store(pool / "window.zarr")
    second_half = window.valid.values[128:]  # 200 spectra in blocks of 64: parts of 2 and 2 blocks
    assert len(table) == second_half.sum()
    assert (table["members"] == 5).all()
    assert {"vote_entropy", "kl_divergence", "bald"} <= set(table.columns)


def test_a_warm_start_begins_from_the_previous_model_and_reruns_the_same(pool, survey, tmp_path):
    from alspec.config.schema import resolve
    from alspec.learning.steps import train as train_iteration

    truth = pd.read_parquet(survey / "truth.parquet")
    labelled = truth.groupby("label").head(20)[["id", "label"]]
    labelled.to_parquet(tmp_path / "labels.parquet")
    settings = resolve({"model": {"architecture": "slim", "epochs": 2, "warm_start": True}})

    def train(name: str, start_from: Path | None, iteration: int = 1, **model) -> dict:
        return train_iteration(
            inputs=[pool / "window.zarr"],
            training_set=tmp_path / "labels.parquet",
            model_path=tmp_path / f"{name}{'.joblib' if 'type' in model else '.keras'}",
            report_path=tmp_path / f"{name}.json",
            settings=settings | {"model": settings["model"] | model},
            iteration=iteration,
            warm_start=start_from,
        )

    assert train("first", None, iteration=0)["warm_start"] is None
    report = train("warm", tmp_path / "first.keras")
    assert report["warm_start"] == {
        "model": str(tmp_path / "first.keras"),
        "checksum": provenance.checksum(tmp_path / "first.keras"),
    }
    train("again", tmp_path / "first.keras")
    train("fresh", None, iteration=0, seed=0)

    def weights(name: str) -> list[np.ndarray]:
        return keras.saving.load_model(tmp_path / f"{name}.keras").get_weights()

    for warm, again in zip(weights("warm"), weights("again"), strict=True):
        np.testing.assert_array_equal(warm, again)  # rerun alone: the same weights
    assert any(
        not np.array_equal(w, f) for w, f in zip(weights("warm"), weights("fresh"), strict=True)
    ), "it started from the first model, not from fresh weights"
    with pytest.raises(ValueError, match="name it"):
        train("missing", None)
    with pytest.raises(ValueError, match="warm_start is false"):
        train("unwanted", tmp_path / "first.keras", warm_start=False)
    with pytest.raises(ValueError, match="do not fit the CNN"):
        train("other", tmp_path / "first.keras", architecture="seed003")
    with pytest.raises(ValueError, match="only the CNN"):
        train("forest", None, type="random_forest")
