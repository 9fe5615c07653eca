"""The words the tables, the config and the stages share, named once.

A query batch says why each spectrum was asked (`reason`), the oracle may answer
"unsure", a prediction table has one probability column per class, a candidate list says
where each candidate comes from. Every stage that writes or reads these values takes
them from here. Light on purpose (standard library only): the Snakefile imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The oracle's "do not know": kept, so the spectrum is never asked again, never trained on.
UNSURE = "unsure"

# Why a spectrum was asked: the `reason` column of a batch and of its answers.
UNCERTAIN = "uncertain"  # the query strategy's choice
ESTIMATE_SAMPLE = "estimate"  # the stratified estimate sample: the catalogue's quality (FR12)
POOL_SAMPLE = "pool_random"  # a random sample of the whole pool (FR13)
COLD_START = "cold_start"  # iteration 0's batch, asked before any model
TOP_RANKED = "top_ranked"  # anomaly mode: the top of the ranking, not yet answered
REQUESTED = "requested"  # a user asked for it from the explorer (alspec explore)
# Discovery's class-agnostic sources, asked while a class of interest is scarce: config
# query.discovery.sources, and the reason of what each chose (alspec.query.discovery).
DISCOVERY_SOURCES = ("anomaly", "typical", "prior")

# The columns of a query batch (the estimate sample's draws also name their stratum and
# the probability they were drawn with, `inclusion`), and of a label table.
SAMPLE_COLUMNS = ("stratum", "inclusion")
BATCH_COLUMNS = ("id", "score", "reason", "predicted", "probability", *SAMPLE_COLUMNS)
LABEL_COLUMNS = ("id", "label", "comment", "annotator", "batch", "reason", "predicted")

# Where a candidate comes from: the `source` column of a candidate list.
PREDICTED, CONFIRMED = "predicted", "oracle"

# The scikit-learn models of config model.type (besides the CNN, "cnn"), and of a
# committee (query.committee.models).
CNN_MODEL = "cnn"
SCIKIT_LEARN_MODELS = ("random_forest", "gradient_boosting", "knn")

# Simulated objects with Hα emission that the simulated oracle answers "other"
# (config simulate.rates): emission-line galaxies and active M dwarfs.
CONFUSERS = ("emission_galaxy", "m_dwarf")


def probability_columns(classes: Sequence[str]) -> list[str]:
    """A prediction table's column of each class's probability: p_<class>."""
    return [f"p_{c}" for c in classes]


INTEREST = "p_interest"  # a prediction table's probability of any class of interest


def interest_probability(table: Any, classes_of_interest: Sequence[str]) -> Any:
    """The probability that a spectrum is of interest: the sum of its p_<class> over the
    classes of interest (a column of a prediction table)."""
    return table[probability_columns(classes_of_interest)].sum(axis=1)


def relevance_levels(maximum: int = 5) -> list[str]:
    """The answers of anomaly mode, as labels: "0" .. "maximum"."""
    return [str(level) for level in range(maximum + 1)]


def answers(config: Mapping[str, Any]) -> list[str]:
    """What the oracle may answer: the classes, or in anomaly mode the relevance levels
    (reads mode, classes, anomaly.relevance.maximum)."""
    if config["mode"] == "anomaly":
        return relevance_levels(config["anomaly"]["relevance"]["maximum"])
    return list(config["classes"])
