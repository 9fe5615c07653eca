"""The configuration: check it, see every default, read one setting."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import command


def _config_options(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="YAML config file to check")
    source.add_argument(
        "--json", dest="json_text", help="config as JSON text (how the workflow records it)"
    )
    source.add_argument(
        "--reference",
        dest="reference_only",
        action="store_true",
        help="every key documented (docs/configuration.md)",
    )
    p.add_argument("--out", type=Path, help="write the resolved config (YAML) here")
    p.add_argument("--get", metavar="KEY", help="print one setting, e.g. oracle.labelstudio.url")


@command("config", "validate a configuration, fill in defaults, print or write it", _config_options)
def run_config(args: argparse.Namespace) -> None:
    from alspec.config.steps import config

    text = config(
        file=args.file,
        json_text=args.json_text,
        get=args.get,
        out=args.out,
        reference_only=args.reference_only,
    )
    if args.get:
        print(text)
    elif not args.out:
        print(text, end="")
