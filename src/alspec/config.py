"""The workflow configuration: validated against the JSON Schema, defaults filled in.

Snakemake validates `config/config.yaml` with the same schema file
(`workflow/schemas/config.schema.yaml` links here); this module lets the CLI do the
same for a config written by hand.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_FILE = "config.schema.yaml"
# simulate.rates of objects with Hα emission that the simulated oracle answers "other"
CONFUSERS = ("emission_galaxy", "m_dwarf")


def relevance_levels(maximum: int = 5) -> list[str]:
    """The answers the expert may give, as labels: "0" .. "maximum"."""
    return [str(level) for level in range(maximum + 1)]


def answers(config: dict[str, Any]) -> list[str]:
    """What the oracle may answer: the classes, or in anomaly mode the relevance levels
    (reads mode, classes, anomaly.relevance.maximum)."""
    if config["mode"] == "anomaly":
        return relevance_levels(config["anomaly"]["relevance"]["maximum"])
    return list(config["classes"])


def enum(key: str) -> list[str]:
    """The values the schema allows for a dotted `key` ("query.discovery.sources"; for a
    list, those of its items)."""
    node = schema()
    for name in key.split("."):
        node = node["properties"][name]
    return node.get("items", node)["enum"]


class ConfigError(ValueError):
    """A configuration that does not satisfy the schema or its cross-field rules."""


def schema() -> dict[str, Any]:
    """The config's JSON Schema, a copy of its own for each caller to change."""
    return copy.deepcopy(_parsed_schema())


@functools.cache
def _parsed_schema() -> dict[str, Any]:
    """Parsed once a process: the CLI's parser asks for it about 80 times (each step's
    --help lists its keys), at 0.1 s a parse."""
    return yaml.safe_load(resources.files("alspec").joinpath(SCHEMA_FILE).read_text())


def _fill_defaults(validator_class: type) -> type:
    """A validator that also writes each property's default (the jsonschema FAQ recipe)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema) -> Iterator:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, _copy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _copy(value: Any) -> Any:
    return yaml.safe_load(yaml.safe_dump(value))


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """Validate `config` in place, fill in defaults and check the cross-field rules."""
    validator = _fill_defaults(jsonschema.Draft202012Validator)(schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(
            "invalid configuration:\n" + "\n".join(f"  {_where(e)}: {e.message}" for e in errors)
        )
    check_consistency(config)
    return config


def check_consistency(config: dict[str, Any]) -> None:
    """Rules JSON Schema cannot express: they relate several keys."""
    unknown = set(config["classes_of_interest"]) - set(config["classes"])
    if unknown:
        raise ConfigError(
            f"classes_of_interest: {sorted(unknown)} are not among classes {config['classes']}"
        )
    if "unsure" in config["classes"]:
        raise ConfigError("classes: 'unsure' is reserved for the oracle's 'do not know' answer")
    if config["initial"]["source"] == "labelled" and not config["initial"]["labelled_set"]:
        raise ConfigError("initial.labelled_set: required when initial.source is 'labelled'")
    if config["initial"]["source"] == "chosen" and not config["initial"]["ids"]:
        raise ConfigError("initial.ids: required when initial.source is 'chosen'")
    external = config["initial"]["external"]
    if config["initial"]["source"] == "external" and not (external["files"] and external["labels"]):
        raise ConfigError(
            "initial.external: files and labels required when initial.source is 'external'"
        )
    from alspec.learners import learner

    reads = learner(config["model"]["type"]).store
    if config["initial"]["source"] == "external" and reads != "window":
        raise ConfigError(
            "initial.source 'external' trains on windows: model.type must be 'cnn'"
            f" (it is {config['model']['type']!r}, which reads the pool's {reads})"
        )
    simulated = {c for c, rate in config["simulate"]["rates"].items() if rate > 0}
    unlabelled = simulated - set(config["classes"]) - set(CONFUSERS)
    if (
        config["mode"] == "classification"
        and config["oracle"]["backend"] == "simulated"
        and unlabelled
    ):
        raise ConfigError(
            f"simulate.rates: {sorted(unlabelled)} would be answered by the simulated oracle"
            f" but are not among classes {config['classes']}: add them, or use mode: anomaly"
        )
    simulate = config["simulate"]
    median = simulate["snr_median"]
    if median is not None and not simulate["snr"][0] <= median <= simulate["snr"][1]:
        raise ConfigError(f"simulate.snr_median: {median} outside simulate.snr {simulate['snr']}")
    if config["mode"] == "anomaly":
        anomaly = config["anomaly"]
        if anomaly["relevance"]["epsilon1"] + anomaly["relevance"]["epsilon2"] >= 1:
            raise ConfigError(
                "anomaly.relevance: epsilon1 + epsilon2 must stay below 1 (arctanh of the"
                " normalised relevance diverges at 1)"
            )
        too_high = {
            c: u for c, u in anomaly["relevance_of"].items() if u > anomaly["relevance"]["maximum"]
        }
        if too_high:
            raise ConfigError(
                f"anomaly.relevance_of: {too_high} above relevance.maximum"
                f" {anomaly['relevance']['maximum']}"
            )
    if config["mode"] == "classification":
        check_discovery(config)
    if config["oracle"]["backend"] == "simulated" and not config["oracle"]["truth"]:
        raise ConfigError("oracle.truth: required when oracle.backend is 'simulated'")
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


def check_discovery(config: dict[str, Any]) -> None:
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


def check_lines(lines: list[dict[str, Any]], grid: tuple[float, float] = (0, math.inf)) -> None:
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


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def load(*paths: str | Path) -> dict[str, Any]:
    """Read YAML config files, each updating the one before (as Snakemake's --configfile
    does), and resolve the result; errors name the file and the key."""
    config: dict[str, Any] = {}
    for path in map(Path, paths):
        try:
            _update(config, yaml.safe_load(path.read_text()) or {})
        except (OSError, yaml.YAMLError) as error:
            raise ConfigError(f"{path}: cannot read: {error}") from error
    try:
        return resolve(config)
    except ConfigError as error:
        raise ConfigError(f"{', '.join(map(str, paths))}: {error}") from error


def _update(config: dict[str, Any], overrides: dict[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            _update(config[key], value)
        else:
            config[key] = value


def setting(config: dict[str, Any], key: str) -> Any:
    """The value at a dotted key such as "oracle.labelstudio.url"."""
    value: Any = config
    for i, part in enumerate(key.split(".")):
        if not isinstance(value, dict) or part not in value:
            raise ConfigError(f"{key}: no such setting (at {'.'.join(key.split('.')[: i + 1])})")
        value = value[part]
    return value


@functools.cache
def _defaults() -> dict[str, Any]:
    return resolve({})


def default(*keys: str) -> Any:
    """The default of a key path, e.g. default("model", "epochs"): CLI options use it so
    that a step run by hand behaves as it does in the workflow."""
    value = _defaults()
    for key in keys:
        value = value[key]
    return _copy(value)


def reference() -> str:
    """docs/configuration.md: every key of the schema with its default, allowed values
    and description, the one place each is documented (`alspec config --reference`)."""
    root = schema()
    lines = [
        "# Configuration reference",
        "",
        "<!-- generated by `alspec config --reference --out docs/configuration.md` from",
        "     workflow/schemas/config.schema.yaml; edit the schema, not this file -->",
        "",
        " ".join(root["description"].split()),
        "",
    ]
    for name, node in root["properties"].items():
        if "properties" not in node:
            lines += _reference_entries(name, node, root)
            continue
        text = " ".join(node.get("description", "").split())
        lines += ["", f"## `{name}`", "", *([text, ""] if text else [])]
        for child, below in node["properties"].items():
            lines += _reference_entries(f"{name}.{child}", below, root)
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _reference_entries(key: str, node: dict[str, Any], root: dict[str, Any]) -> list[str]:
    """One line for `key` and, for a section, one for each key below it."""
    if "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]] | node
    facts = []
    if "default" in node and "properties" not in node:
        facts.append(f"default `{json.dumps(node['default'])}`")
    allowed = node.get("items", node).get("enum")
    if allowed:
        facts.append("one of " + ", ".join(f"`{value}`" for value in allowed))
    text = " ".join(node.get("description", "").split())
    head = f"- **`{key}`**" + (f" ({'; '.join(facts)})" if facts else "")
    entries = [f"{head}: {text}" if text else head]
    for name, child in node.get("properties", {}).items():
        entries += _reference_entries(f"{key}.{name}", child, root)
    return entries
