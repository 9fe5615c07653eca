"""The settings a step reads: the config sections it uses, handed over as one value.

A setting is named in two places only: the schema (which documents it and gives its
default) and the code that reads it. In the workflow, a rule hands its step the
sections the step reads as JSON (`--settings`, from the rule's params, so Snakemake
reruns exactly the steps a changed setting affects); by hand, the step reads the same
sections from config files (`--config`), with `--set key=value` overrides and the
schema's defaults for the rest.

Light on purpose: the Snakefile imports it.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from alspec.config.schema import load, resolve, schema
from alspec.errors import ConfigError

# The config keys each step reads (dotted: a part of a section). A step that reads most
# of a section reads all of it, so that a new key of the section needs no entry here.
DASK = ("pool.block_size", "dask", "slurm.partition", "slurm.gpu_partition", "slurm.account")
ANSWERS = ("mode", "classes", "anomaly.relevance.maximum")  # alspec.vocabulary.answers
READS: dict[str, tuple[str, ...]] = {
    "simulate": ("simulate",),
    "shard": ("pool.shard_size",),
    "ingest": ("pool.grid", "pool.metadata", "pool.block_size"),
    "transfer": (
        "classes", "initial.external.resolving_power", "initial.external.label_map",
        "pool.resolving_power", "pool.grid", "window",
    ),
    "cold-start": ("initial.size", "initial.seed"),
    "training-set": ANSWERS,
    "detect": ("anomaly.detector", "anomaly.seed", "anomaly.neighbours"),
    "rank": ("anomaly.relevance", "anomaly.seed", "anomaly.candidates", "query.batch_size"),
    "push": (
        *ANSWERS, "oracle.backend", "oracle.labelstudio.url", "oracle.labelstudio.project",
        "oracle.labelstudio.token_file", "oracle.labelstudio.metadata", "oracle.labelstudio.sky",
        "oracle.labelstudio.files",
    ),
    "pull": (
        *ANSWERS, "anomaly.relevance_of", "oracle.backend", "oracle.labelstudio.project",
        "oracle.labelstudio.token_file",
    ),
    "evaluate": (
        "classes", "classes_of_interest", "evaluation.confidence",
        "query.discovery.min_examples",
    ),
    "evaluate-ranking": ("anomaly.inliers",),
    "window": ("window", *DASK),
    "features": ("features", *DASK),
    "neighbours": ("explore",),
    "train": (
        "classes", "classes_of_interest", "model", "query.strategy", "query.committee.models",
    ),
    "predict": (
        "classes", "model.seed", "model.calibration", "model.predict_jobs",
        "model.predict_block_size", "model.precision", "query.strategy",
        "query.committee.members",
    ),
    "query": (
        "classes", "classes_of_interest", "query.strategy", "query.batch_size",
        "query.estimate_sample", "query.pool_sample_size", "query.seed", "query.diversity",
        "query.discovery",
    ),
    "catalogue": ("classes_of_interest", "catalogue", "crossmatch"),
    "report": (
        "mode", "classes", "classes_of_interest", "query.strategy", "query.seed", "report",
        "anomaly.relevance.maximum",
    ),
}  # fmt: skip


def for_step(config: Mapping[str, Any], step: str) -> dict[str, Any]:
    """The part of a resolved `config` that `step` reads, nested as in the config."""
    sections: dict[str, Any] = {}
    for key in READS[step]:
        *path, last = key.split(".")
        source, target = config, sections
        for name in path:
            source, target = source[name], target.setdefault(name, {})
        target[last] = source[last]
    return sections


def as_json(config: Mapping[str, Any], step: str) -> str:
    """`step`'s settings as the rules hand them over (`--settings`)."""
    return json.dumps(for_step(config, step), sort_keys=True)


def parse_override(text: str) -> tuple[str, Any]:
    """ "model.epochs=4" -> ("model.epochs", 4): the value read as YAML."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. model.epochs=4")
    return key, yaml.safe_load(value)


def from_config(
    step: str, files: Sequence[str | Path] = (), overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """`step`'s settings from config `files` (each updating the one before), then
    `overrides` ("key=value"), validated and with the schema's defaults."""
    config = load(*files) if files else resolve({})
    for text in overrides:
        key, value = parse_override(text)
        if not _known(key):
            raise ConfigError(f"{key}: no such setting")
        *path, last = key.split(".")
        target = config
        for name in path:
            target = target.setdefault(name, {})
        target[last] = value
    return for_step(resolve(config), step)


def _known(key: str) -> bool:
    """Whether the schema has `key` (a dotted path), or lets its parent hold any key."""
    node = schema()
    for name in key.split("."):
        if name not in node.get("properties", {}):
            return node.get("type") == "object" and bool(node.get("additionalProperties", True))
        node = node["properties"][name]
    return True


def read(
    step: str,
    *,
    settings: str | None = None,
    files: Sequence[str | Path] = (),
    overrides: Sequence[str] = (),
) -> dict[str, Any]:
    """`step`'s settings: the rule's JSON `settings`, else from config files."""
    if settings is not None:
        if files or overrides:
            raise ConfigError("--settings comes from the workflow: give it alone, or --config")
        return json.loads(settings)
    return from_config(step, files, overrides)


def described(step: str) -> str:
    """The keys `step` reads, each with its default and the schema's description (for
    `--help`)."""
    lines = []
    for key in READS[step]:
        node = schema()
        for name in key.split("."):
            node = node["properties"][name]
        children = node.get("properties", {})
        lines += _entry(key, node, indent=2) if not children else [f"  {key}:"]
        for name, child in children.items():
            lines += _entry(f"{key}.{name}", child, indent=4)
    return "\n".join(lines)


def _entry(key: str, node: Mapping[str, Any], indent: int) -> list[str]:
    default = f" (default {json.dumps(node['default'])})" if "default" in node else ""
    text = f"{key}{default}: {' '.join(node.get('description', '').split())}".rstrip(": ")
    return textwrap.wrap(
        text, width=92, initial_indent=" " * indent, subsequent_indent=" " * (indent + 4)
    )
