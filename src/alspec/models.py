"""The CNN of seed 003 section 3.2.6: its architecture, deterministic training, inference.

Input: a window of n points (140 for Hα); three cycles of two 3-pixel convolutions
(64, 128, 256 filters, ReLU) each followed by 2-pixel max pooling; two dense layers
of 512 units with dropout 0.5; a softmax over the classes. `slim` keeps the shape
with a sixteenth of the parameters, for CPU-only work and tests.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from alspec.io import atomic_output
from alspec.pool import iter_blocks, open_store
from alspec.query import probability_columns
from alspec.strategies import entropy

# TensorFlow's C++ log repeats harmless op-definition notices on every run; Python
# exceptions still carry its errors.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import tensorflow as tf


@dataclass(frozen=True)
class Architecture:
    filters: tuple[int, int, int]
    units: int
    dropout: float = 0.5


ARCHITECTURES = {
    "seed003": Architecture(filters=(64, 128, 256), units=512),
    "slim": Architecture(filters=(16, 32, 64), units=128),
}


def build_cnn(n_points: int, n_classes: int, architecture: str = "seed003") -> keras.Model:
    shape = ARCHITECTURES[architecture]
    inputs = keras.Input(shape=(n_points, 1), name="window")
    x = inputs
    for filters in shape.filters:
        for _ in range(2):
            x = keras.layers.Conv1D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling1D(pool_size=2, strides=2, padding="valid")(x)
    x = keras.layers.Flatten()(x)
    for _ in range(2):
        x = keras.layers.Dense(shape.units, activation="relu")(x)
        x = keras.layers.Dropout(shape.dropout)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=f"alspec_{architecture}")


def balanced_class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Weights n / (k n_c) over the k classes present, so rare classes count as much."""
    counts = np.bincount(y, minlength=n_classes)
    present = counts > 0
    return {
        c: float(len(y) / (present.sum() * counts[c])) if present[c] else 0.0
        for c in range(n_classes)
    }


def use_threads(threads: int) -> None:
    """Run TensorFlow on the cores the job was given, not on every core of the node.

    Call before any TensorFlow operation; 0 leaves TensorFlow's own choice.
    """
    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))


def make_deterministic(seed: int) -> None:
    """Same inputs, same seed, same thread count: bitwise-identical weights."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def train(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    architecture: str,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Fit a fresh CNN on windows `x` (n, points) with integer labels `y`."""
    make_deterministic(seed)
    model = build_cnn(x.shape[1], n_classes, architecture)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        x[..., None],
        y,
        epochs=epochs,
        batch_size=batch_size,
        class_weight=balanced_class_weights(y, n_classes),
        shuffle=True,
        verbose=2,
    )
    return model, {k: [float(v) for v in values] for k, values in history.history.items()}


def predict_proba(model: keras.Model, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Class probabilities (n, n_classes) for windows `x` (n, points), dropout off."""
    return model.predict(x[..., None], batch_size=batch_size, verbose=0)


def load(path: str, classes: Sequence[str]) -> keras.Model:
    model = keras.saving.load_model(path)
    if model.output_shape[-1] != len(classes):
        raise ValueError(
            f"{path}: the model predicts {model.output_shape[-1]} classes, "
            f"the configuration names {len(classes)}: {list(classes)}"
        )
    return model


def predict_pool(
    model: keras.Model,
    window_store: str,
    classes: Sequence[str],
    out: str,
    block_size: int,
) -> int:
    """Stream the pool's windows through the model into a Parquet table, one row per
    classifiable spectrum: `id`, `predicted`, `probability` (of the predicted class),
    `p_<class>` for each class and `entropy` (bits). Memory stays one block deep."""
    window = open_store(window_store)
    names = np.asarray(classes, dtype=object)
    written = 0
    with atomic_output(out) as tmp:
        writer = None
        for rows in iter_blocks(window.sizes["spectrum"], block_size, "predict"):
            valid = window.valid[rows].values
            p = predict_proba(model, window.flux[rows].values[valid])
            best = p.argmax(axis=1)
            table = pa.table(
                {
                    "id": window.id[rows].values[valid].astype(object),
                    "predicted": names[best].astype(str),
                    "probability": p[np.arange(len(p)), best],
                }
                | dict(zip(probability_columns(classes), p.T, strict=True))
                | {"entropy": entropy(p)}
            )
            writer = writer or pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
            written += len(p)
        writer.close()
    return written
