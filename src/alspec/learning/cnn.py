"""The CNN of seed 003 section 3.2.6: its architecture, deterministic training, inference.

Input: a window of n points (140 for Hα); three cycles of two 3-pixel convolutions
(64, 128, 256 filters, ReLU) each followed by 2-pixel max pooling; two dense layers
of 512 units with dropout 0.5; a softmax over the classes. `slim` keeps the shape
with a sixteenth of the parameters, for CPU-only work and tests.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alspec.errors import ConfigError, InputError
from alspec.learning.calibration import class_fractions
from alspec.learning.fitting import Balanced, balance, macro_f1, validation_split

# TensorFlow's C++ log, once set up, repeats harmless op-definition notices on every
# run; Python exceptions still carry its errors. (What it writes before its log is set
# up: alspec.runtime.native_notices.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import tensorflow as tf

logger = logging.getLogger(__name__)


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


def use_threads(threads: int) -> None:
    """Run TensorFlow on the cores the job was given, not on every core of the node.

    Call before any TensorFlow operation; 0 leaves TensorFlow's own choice.
    """
    if threads <= 0:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    except RuntimeError:  # TensorFlow already ran in this process: its threads are fixed
        logger.debug("TensorFlow's threads were set when it first ran; %d not applied", threads)


def device() -> str:
    """Where TensorFlow runs the model: the first GPU it sees, else "CPU". A GPU job
    that says CPU lacks the CUDA build of TensorFlow (envs/pipeline-gpu.txt) or its GPU."""
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "CPU"
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "unnamed")
    return f"{gpus[0].name.removeprefix('/physical_device:')} ({name})"


def make_deterministic(seed: int) -> None:
    """Same inputs, same seed, same thread count: bitwise-identical weights."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


@dataclass(frozen=True)
class Fitting:
    """How to fit: the optimiser's settings, the validation split that stops training
    early, and how the classes are balanced (alspec.learning.fitting). Their defaults
    are the schema's (config `model`): `from_config` takes them from a resolved config."""

    epochs: int
    batch_size: int
    learning_rate: float
    validation_fraction: float
    patience: int
    imbalance: str
    smote_neighbours: int
    seed: int

    @classmethod
    def from_config(cls, model: Mapping[str, Any]) -> Fitting:
        """The fitting settings of config section `model`."""
        return cls(**{name: model[name] for name in cls.__dataclass_fields__})


def start_from(model: keras.Model, saved: str) -> None:
    """Give `model` the weights of the saved CNN `saved` (a warm start): its shape."""
    initial = keras.saving.load_model(saved)
    shapes = [tuple(w.shape) for w in model.weights]
    if [tuple(w.shape) for w in initial.weights] != shapes:
        raise InputError(
            f"{saved}: its weights do not fit the CNN being trained (another"
            " model.architecture, window or classes); train from scratch"
            " (model.warm_start: false) once"
        )
    model.set_weights(initial.get_weights())


def train(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    architecture: str,
    fitting: Fitting,
    warm_start: str | None = None,
) -> tuple[keras.Model, dict]:
    """Fit a CNN on windows `x` (n, points) with integer labels `y`: a fresh one, or one
    starting from the weights of the saved CNN `warm_start`.

    A stratified validation split stops training once its loss has not improved for
    `patience` epochs and keeps the best epoch's weights; its macro F1 names the
    checkpoint. Returns the model and a report (history, validation F1, balance).
    """
    make_deterministic(fitting.seed)
    train_rows, validation_rows = validation_split(y, fitting.validation_fraction, fitting.seed)
    balanced = balance(
        x[train_rows],
        y[train_rows],
        n_classes,
        fitting.imbalance,
        fitting.smote_neighbours,
        fitting.seed,
    )
    model = build_cnn(x.shape[1], n_classes, architecture)
    if warm_start:
        start_from(model, warm_start)
    model.compile(
        optimizer=keras.optimizers.Adam(fitting.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    validation = (x[validation_rows], y[validation_rows])
    history = _fit(model, balanced, validation, fitting)
    predicted = predict_proba(model, validation[0]).argmax(axis=1)
    report = {
        "history": {k: [float(v) for v in values] for k, values in history.items()},
        "epochs_run": len(history["loss"]),
        "training_examples": len(train_rows),
        "validation_examples": len(validation_rows),
        "validation_f1": macro_f1(validation[1], predicted),
        "validation_counts": np.bincount(validation[1], minlength=n_classes).tolist(),
        "balance": balanced.method,
        "fitted_prior": class_fractions(balanced.y, n_classes, balanced.sample_weight).tolist(),
        "labelled_prior": class_fractions(y, n_classes).tolist(),
    }
    return model, report


def _fit(
    model: keras.Model,
    balanced: Balanced,
    validation: tuple[np.ndarray, np.ndarray],
    fitting: Fitting,
) -> dict[str, list]:
    """Keras's fit on the balanced set, stopped early by the `validation` split's loss
    (the best epoch's weights kept) where there is one; returns the history."""
    validating = len(validation[1]) > 0
    stop = keras.callbacks.EarlyStopping(
        patience=fitting.patience, restore_best_weights=True, verbose=1
    )
    history = model.fit(
        balanced.x[..., None],
        balanced.y,
        sample_weight=balanced.sample_weight,
        validation_data=(validation[0][..., None], validation[1]) if validating else None,
        callbacks=[stop] if validating else [],
        epochs=fitting.epochs,
        batch_size=fitting.batch_size,
        shuffle=True,
        verbose=2,
    )
    return history.history


INFERENCE_BATCH = 4096  # spectra per traced forward pass: past this, no faster on CPUs
PRECISIONS = ("float32", "bfloat16")  # config model.precision: the pool's classification


def bfloat16_units() -> bool:
    """Whether this machine computes bfloat16 natively: a GPU, or a CPU with AVX512_BF16
    or AMX tiles. Elsewhere bfloat16 is emulated, slower than float32."""
    if tf.config.list_physical_devices("GPU"):
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def in_precision(model: keras.Model, precision: str) -> keras.Model:
    """`model` computing in `precision`. bfloat16: a copy whose layers compute in
    bfloat16 (Keras's mixed_bfloat16 policy: weights kept in float32, inputs and
    weights cast at each layer) but for the softmax, which stays float32."""
    if precision == "float32":
        return model
    if precision != "bfloat16":
        raise ConfigError(f"model.precision: {precision!r} is not one of {PRECISIONS}")
    if not bfloat16_units():
        logger.warning(
            "model.precision bfloat16: this machine has no bfloat16 units (no GPU, no"
            " AVX512_BF16 or AMX): it runs emulated, slower than float32"
        )

    def in_bfloat16(layer: keras.layers.Layer) -> keras.layers.Layer:
        config = layer.get_config()
        if layer is not model.layers[-1]:
            config["dtype"] = "mixed_bfloat16"
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=in_bfloat16)
    copy.set_weights(model.get_weights())
    return copy


class Forward:
    """A model's forward pass (dropout off), traced once into a TensorFlow graph for one
    batch shape.

    Keras's `predict` re-enters Python per batch; this runs at the matrix-multiply rate
    of the cores. Every batch is padded to `batch_size` rows, so the graph is traced
    once and a spectrum's result does not depend on which batch it came in. The graph's
    oneDNN kernels use the CPU's widest units (AVX-512, and AVX512_BF16 or AMX in
    bfloat16): on an AVX-512 EPYC they ran 11 % faster than the same pass compiled by
    XLA in float32, and XLA's CPU backend computes bfloat16 in float32 (no faster).
    """

    def __init__(
        self, model: keras.Model, batch_size: int = INFERENCE_BATCH, precision: str = "float32"
    ) -> None:
        self.batch_size = batch_size
        self.n_outputs = model.output_shape[-1]
        shape = (batch_size, *model.input_shape[1:])
        computing = in_precision(model, precision)

        def forward(x: tf.Tensor) -> tf.Tensor:
            return tf.cast(computing(x, training=False), tf.float32)

        # a named function: autograph could not parse a lambda's source and said so
        self._run = tf.function(
            forward,
            autograph=False,  # no Python control flow to convert
            input_signature=[tf.TensorSpec(shape, tf.float32)],
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Outputs (n, ...) for inputs `x` (n, ...), in batches of `batch_size`."""
        out = np.empty((len(x), self.n_outputs), dtype=np.float32)
        for start in range(0, len(x), self.batch_size):
            batch = x[start : start + self.batch_size]
            n = len(batch)
            if n < self.batch_size:
                batch = np.concatenate(
                    [batch, np.zeros((self.batch_size - n, *batch.shape[1:]), batch.dtype)]
                )
            out[start : start + n] = self._run(batch).numpy()[:n]
        return out


def predict_proba(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Class probabilities (n, n_classes) for a few windows `x` (n, points), dropout off:
    Keras's own `predict`, no tracing of a pool-sized batch (validation sets, tests)."""
    if len(x) == 0:
        return np.empty((0, model.output_shape[-1]), dtype=np.float32)
    return model.predict(x[..., None], batch_size=1024, verbose=0)


def pool_proba(
    model: keras.Model, batch_size: int = INFERENCE_BATCH, precision: str = "float32"
) -> Callable:
    """Class probabilities of windows (n, points) -> (n, n_classes) for a whole pool:
    the forward pass traced once (Forward) and reused for every block."""
    forward = Forward(model, batch_size, precision)
    return lambda x: forward(np.asarray(x, dtype=np.float32)[..., None])


def dropout_committee(
    model: keras.Model,
    members: int,
    seed: int,
    batch_size: int = INFERENCE_BATCH,
    precision: str = "float32",
) -> Callable:
    """A committee of `members` Monte-Carlo-dropout passes: windows (n, points) ->
    probabilities (members, n, n_classes).

    Each member is one thinned network: one dropout mask per layer, drawn from (seed,
    member) and applied to every spectrum, so a spectrum's committee does not depend on
    the batch or the part of the pool it came in. Dropout sits only in the dense head,
    so the convolutions run once per spectrum (a traced graph, as Forward, in `precision`) and
    only the head runs per member, in float32.
    """
    flatten = next(
        i for i, layer in enumerate(model.layers) if isinstance(layer, keras.layers.Flatten)
    )
    body = Forward(keras.Model(model.input, model.layers[flatten].output), batch_size, precision)
    head = model.layers[flatten + 1 :]

    def masks(member: int) -> list[np.ndarray | None]:
        rng = np.random.default_rng([seed, member])
        return [
            ((rng.random(layer.input.shape[-1]) >= layer.rate) / (1 - layer.rate)).astype(
                np.float32
            )
            if isinstance(layer, keras.layers.Dropout)
            else None
            for layer in head
        ]

    thinned = [masks(member) for member in range(members)]

    def proba(x: np.ndarray) -> np.ndarray:
        out = np.empty((members, len(x), model.output_shape[-1]), dtype=np.float32)
        for start in range(0, len(x), batch_size):
            rows = slice(start, start + batch_size)
            hidden = body(np.asarray(x[rows], dtype=np.float32)[..., None])
            for member, member_masks in enumerate(thinned):
                z = hidden
                for layer, mask in zip(head, member_masks, strict=True):
                    z = layer(z) if mask is None else z * mask
                out[member, rows] = keras.ops.convert_to_numpy(z)
        return out

    return proba


def load(path: str, classes: Sequence[str]) -> keras.Model:
    model = keras.saving.load_model(path)
    if model.output_shape[-1] != len(classes):
        raise InputError(
            f"{path}: the model predicts {model.output_shape[-1]} classes, "
            f"the configuration names {len(classes)}: {list(classes)}"
        )
    return model
