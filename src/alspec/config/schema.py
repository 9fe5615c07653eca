"""The workflow configuration: validated against its JSON Schema, defaults filled in.

Snakemake validates `config/config.yaml` with the same schema file
(`workflow/schemas/config.schema.yaml` links here); this module lets the CLI and the
steps do the same for a config written by hand. The schema is where every setting is
named, documented and given its default; code reads the values from a resolved config.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from alspec.config.checks import check_consistency
from alspec.errors import ConfigError

SCHEMA_FILE = "config.schema.yaml"


def enum(key: str) -> list[str]:
    """The values the schema allows for a dotted `key` ("query.discovery.sources"; for a
    list, those of its items)."""
    node = schema()
    for name in key.split("."):
        node = node["properties"][name]
    return node.get("items", node)["enum"]


def schema() -> dict[str, Any]:
    """The config's JSON Schema, a copy of its own for each caller to change."""
    return copy.deepcopy(_parsed_schema())


@functools.cache
def _parsed_schema() -> dict[str, Any]:
    """Parsed once a process: the CLI's parser asks for it about 80 times (each step's
    --help lists its keys), at 0.1 s a parse."""
    return yaml.safe_load(resources.files("alspec.config").joinpath(SCHEMA_FILE).read_text())


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
