"""What a model type is to the pipeline, in one place: the pool store it reads, the file
it is saved as, how it is fitted, saved and loaded, and how its committee is formed.
Looked up by config `model.type`; the rules, the train and predict steps and inference
ask the learner instead of branching on the type.

- `cnn` (alspec.learning.cnn): reads the Hα window (window.zarr), saved as `.keras`, runs on a
  GPU where the job has one; its committee is formed at prediction, by Monte-Carlo
  dropout passes (`query.committee.members`).
- `random_forest`, `gradient_boosting`, `knn` (alspec.learning.scikit_learn, seed 001): read the
  features (features.zarr), saved as `.joblib`; the committee is formed at training,
  one model of each kind of `query.committee.models`.

Light on purpose (the Snakefile and the config's checks ask it for paths and stores):
the modules of the models (and joblib, their file format) are imported where a model is
fitted, loaded or run, because importing them costs TensorFlow's or scikit-learn's
start-up (about 4 s and 1 s here), which the DAG-building process and `alspec --help`
must not pay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from alspec.errors import ConfigError, InputError
from alspec.vocabulary import CNN_MODEL, SCIKIT_LEARN_MODELS

Proba = Callable[[Any], Any]  # inputs (n, ...) -> probabilities (n, classes) or a committee's


@dataclass(frozen=True)
class Learner:
    """What every model type tells the pipeline: `store` the pool store it reads
    ("window" or "features"; its variable `reads`), `suffix` its file, `committee`
    "dropout" (formed at prediction) or "models" (formed at training), `gpu` whether its
    steps ask for GPUs, `warm_starts` whether it can start from a saved model's weights.
    Subclasses fit, save, load and predict."""

    name: str
    description: ClassVar[str]  # "the CNN": what the messages call it
    store: ClassVar[str]
    reads: ClassVar[str]
    suffix: ClassVar[str]
    committee: ClassVar[str]
    gpu: ClassVar[bool]
    warm_starts: ClassVar[bool] = False

    def check_store(self, data: Any, source: str | Path) -> None:
        """A clear error when `data` is not the store this learner reads."""
        if self.reads not in data:
            raise InputError(
                f"{source}: {self.description} reads a {self.store} store ({self.reads});"
                " this store has none"
            )

    def use_threads(self, threads: int) -> str:
        """Set the threads the model may use; where it runs ("CPU", or the GPU's name)."""
        return "CPU"


class CNN(Learner):
    """The CNN of alspec.learning.cnn on the Hα window; its committee: dropout passes; it can
    start from the previous iteration's weights (model.warm_start)."""

    description = "the CNN"
    store, reads, suffix, committee, gpu = "window", "flux", ".keras", "dropout", True
    warm_starts = True

    def inputs(self, data: Any) -> tuple[Any, Any]:
        """(x, usable) of store `data`: the windows, and which are classifiable."""
        return data.flux.values, data.valid.values

    def fit(
        self,
        x: Any,
        y: Any,
        *,
        n_classes: int,
        model: dict[str, Any],
        warm_start: str | Path | None = None,
        **_: Any,
    ) -> tuple[Any, dict[str, Any]]:
        """A CNN fitted on windows `x`, integer labels `y`, by config section `model`,
        starting from the weights of the saved CNN `warm_start` where given."""
        from alspec.learning import cnn

        fitted, report = cnn.train(
            x,
            y,
            n_classes,
            model["architecture"],
            cnn.Fitting.from_config(model),
            str(warm_start) if warm_start else None,
        )
        return fitted, report | {
            "architecture": model["architecture"],
            "parameters": fitted.count_params(),
        }

    def save(self, fitted: Any, path: str | Path) -> None:
        fitted.save(path)

    def load(self, path: str | Path, classes: Sequence[str]) -> Any:
        from alspec.learning import cnn

        return cnn.load(str(path), classes)

    def probabilities(
        self, fitted: Any, *, members: int = 0, seed: int = 0, precision: str = "float32"
    ) -> Proba:
        """(n, classes), or with `members` that many dropout passes (members, n, classes);
        traced once, for the whole pool, computing in `precision` (model.precision)."""
        from alspec.learning import cnn

        if members:
            return cnn.dropout_committee(fitted, members, seed, precision=precision)
        return cnn.pool_proba(fitted, precision=precision)

    def use_threads(self, threads: int) -> str:
        from alspec.learning import cnn

        cnn.use_threads(threads)
        return cnn.device()


class ScikitLearn(Learner):
    """scikit-learn's models of alspec.learning.scikit_learn on the features; a committee is one
    model of each kind, fitted together."""

    description = "a scikit-learn model"
    store, reads, suffix, committee, gpu = "features", "pca", ".joblib", "models", False

    def inputs(self, data: Any) -> tuple[Any, Any]:
        """(x, usable) of store `data`: the feature rows, and which are classifiable."""
        from alspec.features.matrix import feature_matrix, usable

        x = feature_matrix(data)
        return x, usable(x)

    def fit(
        self,
        x: Any,
        y: Any,
        *,
        n_classes: int,
        model: dict[str, Any],
        committee_models: Sequence[str] = (),
        threads: int = 0,
        **_: Any,
    ) -> tuple[Any, dict[str, Any]]:
        """Models fitted on feature rows `x`, integer labels `y`, by config section
        `model`: this kind, or one of each of `committee_models`."""
        from alspec.learning import scikit_learn

        return scikit_learn.train(
            x,
            y,
            n_classes,
            list(committee_models) or [self.name],
            model["multiclass"],
            model["imbalance"],
            model["validation_fraction"],
            model["smote_neighbours"],
            model["seed"],
            threads=threads or -1,
        )

    def save(self, fitted: Any, path: str | Path) -> None:
        import joblib

        joblib.dump(fitted, path)

    def load(self, path: str | Path, classes: Sequence[str]) -> Any:
        import joblib

        fitted = joblib.load(path)
        if fitted.n_classes != len(classes):
            raise InputError(
                f"{path}: the model predicts {fitted.n_classes} classes, "
                f"the configuration names {len(classes)}: {list(classes)}"
            )
        return fitted

    def probabilities(self, fitted: Any, **_: Any) -> Proba:
        """(n, classes), or (members, n, classes) of models fitted as a committee."""
        return fitted.members_proba if len(fitted.models) > 1 else fitted.predict_proba


LEARNERS: dict[str, Learner] = {
    CNN_MODEL: CNN(CNN_MODEL),
    **{kind: ScikitLearn(kind) for kind in SCIKIT_LEARN_MODELS},
}


def learner(model_type: str) -> Learner:
    """The learner of config `model.type`."""
    if model_type not in LEARNERS:
        raise ConfigError(f"unknown model.type {model_type!r}; known: {', '.join(LEARNERS)}")
    return LEARNERS[model_type]


def of_file(path: str | Path) -> Learner:
    """The learner that saved model file `path`, by its suffix (which scikit-learn kind
    does not matter to loading and predicting)."""
    suffix = Path(path).suffix
    for each in LEARNERS.values():
        if each.suffix == suffix:
            return each
    known = sorted({each.suffix for each in LEARNERS.values()})
    raise InputError(f"{path}: not a saved model (expected {' or '.join(known)})")
