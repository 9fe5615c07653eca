"""The config command's step: check a config, fill in its defaults, and write it (each
iteration records the config it ran with) or one of its settings; or the reference."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from alspec.config.reference import reference
from alspec.config.schema import load, resolve, setting
from alspec.io import write_text


def config(
    *,
    file: Path | None = None,
    json_text: str | None = None,
    get: str | None = None,
    out: Path | None = None,
    reference_only: bool = False,
) -> str:
    """The config step: the config in `file` (YAML) or `json_text` resolved (validated,
    defaults filled in) as YAML, or just its setting `get`; with `reference_only`, every
    key documented (docs/configuration.md). Written to `out` where given; returned."""
    if reference_only:
        text = reference()
    else:
        resolved = load(file) if file else resolve(json.loads(json_text or "{}"))
        if get:
            value = setting(resolved, get)
            return value if isinstance(value, str | int | float) else json.dumps(value)
        text = yaml.safe_dump(resolved, sort_keys=False)
    if out:
        write_text(text, out)
    return text
