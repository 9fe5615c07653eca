"""The config's rules that JSON Schema cannot express: they relate several keys.

Run when a config is resolved (alspec.config.schema.resolve) and by the Snakefile before
it builds the DAG, so that a config that cannot work fails before any job starts.
Light on purpose: the Snakefile imports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from alspec.errors import ConfigError
from alspec.learning.learners import LEARNERS, learner
from alspec.vocabulary import CONFUSERS, UNSURE

Config = Mapping[str, Any]


def check_consistency(config: Config) -> None:
    """Every cross-field rule of a config whose keys the schema has checked and filled."""
    check_classes(config)
    check_initial(config)
    check_simulated_oracle(config)
    if config["mode"] == "anomaly":
        check_relevance(config["anomaly"])
    else:
        check_discovery(config)
    check_pool(config)


def check_classes(config: Config) -> None:
    unknown = set(config["classes_of_interest"]) - set(config["classes"])
    if unknown:
        raise ConfigError(
            f"classes_of_interest: {sorted(unknown)} are not among classes {config['classes']}"
        )
    if UNSURE in config["classes"]:
        raise ConfigError(f"classes: {UNSURE!r} is reserved for the oracle's 'do not know' answer")


def check_initial(config: Config) -> None:
    """What the first batch needs (initial.source) is given, and the model can use it."""
    initial = config["initial"]
    source, external = initial["source"], initial["external"]
    if source == "labelled" and not initial["labelled_set"]:
        raise ConfigError("initial.labelled_set: required when initial.source is 'labelled'")
    if source == "chosen" and not initial["ids"]:
        raise ConfigError("initial.ids: required when initial.source is 'chosen'")
    if source == "external" and not (external["files"] and external["labels"]):
        raise ConfigError(
            "initial.external: files and labels required when initial.source is 'external'"
        )
    reads = learner(config["model"]["type"]).store
    if source == "external" and reads != "window":
        readers = " or ".join(
            repr(name) for name, each in LEARNERS.items() if each.store == "window"
        )
        raise ConfigError(
            f"initial.source 'external' trains on windows: model.type must be {readers}"
            f" (it is {config['model']['type']!r}, which reads the pool's {reads})"
        )


def check_simulated_oracle(config: Config) -> None:
    """The simulated survey and oracle agree with the classes; the truth is named."""
    simulated = {c for c, rate in config["simulate"]["rates"].items() if rate > 0}
    unlabelled = simulated - set(config["classes"]) - set(CONFUSERS)
    simulated_oracle = config["oracle"]["backend"] == "simulated"
    if config["mode"] == "classification" and simulated_oracle and unlabelled:
        raise ConfigError(
            f"simulate.rates: {sorted(unlabelled)} would be answered by the simulated oracle"
            f" but are not among classes {config['classes']}: add them, or use mode: anomaly"
        )
    simulate = config["simulate"]
    median = simulate["snr_median"]
    if median is not None and not simulate["snr"][0] <= median <= simulate["snr"][1]:
        raise ConfigError(f"simulate.snr_median: {median} outside simulate.snr {simulate['snr']}")
    if simulated_oracle and not config["oracle"]["truth"]:
        raise ConfigError("oracle.truth: required when oracle.backend is 'simulated'")


def check_relevance(anomaly: Config) -> None:
    """Anomaly mode's eq. 1-3 stay finite and the simulated relevances are allowed."""
    relevance = anomaly["relevance"]
    if relevance["epsilon1"] + relevance["epsilon2"] >= 1:
        raise ConfigError(
            "anomaly.relevance: epsilon1 + epsilon2 must stay below 1 (arctanh of the"
            " normalised relevance diverges at 1)"
        )
    too_high = {c: u for c, u in anomaly["relevance_of"].items() if u > relevance["maximum"]}
    if too_high:
        raise ConfigError(
            f"anomaly.relevance_of: {too_high} above relevance.maximum {relevance['maximum']}"
        )


def check_discovery(config: Config) -> None:
    """query.discovery reads the features store: its prior must name a measured line."""
    discovery = config["query"]["discovery"]
    if not discovery["sources"]:
        return
    if config["anomaly"]["features"] == "raw":
        raise ConfigError(
            "query.discovery.sources: discovery reads the features store, which"
            " anomaly.features: raw does not make (set sources: [] or features: pca)"
        )
    prior = discovery["prior"]
    if "prior" in discovery["sources"] and not prior:
        raise ConfigError("query.discovery.prior: required when sources include prior")
    lines = [line["name"] for line in config["features"]["lines"]]
    if prior and prior["line"] not in lines:
        raise ConfigError(
            f"query.discovery.prior.line: {prior['line']!r} is not measured;"
            f" features.lines names {lines}"
        )


def check_pool(config: Config) -> None:
    """The page shows catalogued metadata; the grid, window and lines fit together."""
    catalogued = {"ra", "dec", *(key.lower() for key in config["pool"]["metadata"])}
    shown = set(config["oracle"]["labelstudio"]["metadata"]) - catalogued
    if shown:
        raise ConfigError(
            f"oracle.labelstudio.metadata: {sorted(shown)} are not in the pool catalogue,"
            f" which holds {sorted(catalogued)} (pool.metadata, lower-cased)"
        )
    grid = config["pool"]["grid"]
    if grid["stop"] <= grid["start"]:
        raise ConfigError("pool.grid: stop must be greater than start")
    if not grid["points"] and grid["start"] <= 0:
        raise ConfigError("pool.grid: a log-linear grid starts above 0 (or give `points`)")
    window = config["window"]
    if not grid["start"] <= window["start"] < window["stop"] <= grid["stop"]:
        raise ConfigError("window: start < stop, both inside pool.grid")
    if not (config["mode"] == "anomaly" and config["anomaly"]["features"] == "raw"):
        # the features step, which measures these lines, runs unless anomaly mode reads raw values
        check_lines(config["features"]["lines"], (grid["start"], grid["stop"]))


def check_lines(lines: list[Mapping[str, Any]], grid: tuple[float, float] = (0, math.inf)) -> None:
    """Each line's bands in order: blue band < core start < centre < core end < red band."""
    for i, line in enumerate(lines):
        (blue_low, blue_high), (red_low, red_high) = line["continuum"]
        edges = [grid[0], blue_low, blue_high, line["core"][0], line["centre"], line["core"][1]]
        edges += [red_low, red_high, grid[1]]
        if edges != sorted(edges):
            raise ConfigError(
                f"features.lines.{i} ({line['name']}): expected blue band < core start"
                " < centre < core end < red band, all inside pool.grid"
            )
