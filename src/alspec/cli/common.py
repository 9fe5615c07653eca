"""What the commands share: the registry of commands, and options several steps take."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from alspec.config import settings

Command = Callable[[argparse.Namespace], None]


COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help: str, options: Callable[[argparse.ArgumentParser], None]):
    """Register the decorated function as step `name`; `options` adds its arguments."""

    def register(run: Command) -> Command:
        COMMANDS[name] = (run, options, help)
        return run

    return register


def settings_options(p: argparse.ArgumentParser, step: str) -> None:
    """How a step gets its settings: the workflow's JSON, or config files and overrides
    (the schema's defaults for the rest); --help lists the keys it reads."""
    given = p.add_argument_group("settings (the config keys below)")
    given.add_argument("--settings", help="the step's settings as JSON (from the workflow)")
    given.add_argument(
        "--config", type=Path, nargs="+", default=[], help="config files, later ones win"
    )
    given.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one setting, e.g. model.epochs=4 (repeatable)",
    )
    p.epilog = f"config keys it reads:\n{settings.described(step)}"


def step_settings(args: argparse.Namespace) -> dict:
    """The settings of the step being run (args.step), from --settings or --config/--set."""
    return settings.read(
        args.step, settings=args.settings, files=args.config, overrides=args.overrides
    )


def call_step(function: Callable[..., Any], args: argparse.Namespace, **given: Any) -> Any:
    """Call a step's library function with the options of the same names, and its
    settings where it takes them and `given` does not hold them: those the options give,
    or, for a step whose settings default to None (it finds its own), none at all."""
    parameters = inspect.signature(function).parameters
    options = {name: value for name, value in vars(args).items() if name in parameters}
    if "settings" in parameters and "settings" not in given:
        finds_own = parameters["settings"].default is None
        chosen = args.settings is not None or args.config or args.overrides
        if chosen or not finds_own:
            given["settings"] = step_settings(args)
    return function(**options | given)


def counts(labels: pd.Series) -> str:
    """ "other 97, single_peak 2": how many of each label, commonest first."""
    return ", ".join(f"{label} {n}" for label, n in labels.value_counts().items())


def assignment(text: str) -> tuple[str, str]:
    """An option's NAME=VALUE, e.g. --rates p_cygni=0.002 or --input store=window.zarr."""
    name, separator, value = text.partition("=")
    if not separator or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def held_out_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--held-out",
        type=Path,
        help="labelled set (id, label) kept for evaluation: never asked, never trained on",
    )


def threads_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")
