"""What the commands share: the registry of commands, and options several steps take."""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alspec import config as cfg
from alspec.io import read_table

Command = Callable[[argparse.Namespace], None]


COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help: str, options: Callable[[argparse.ArgumentParser], None]):
    """Register the decorated function as step `name`; `options` adds its arguments."""

    def register(run: Command) -> Command:
        COMMANDS[name] = (run, options, help)
        return run

    return register


def enum_choices(key: str) -> list[str]:
    """The values the config schema allows for `key` ("model.type"): one list for the CLI
    and the config, equal to the code's registry (tests/test_config.py checks)."""
    return cfg.enum(key)


def settings_options(p: argparse.ArgumentParser, step: str) -> None:
    """How a step gets its settings: the workflow's JSON, or config files and overrides
    (the schema's defaults for the rest); --help lists the keys it reads."""
    from alspec import settings

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
    from alspec import settings

    return settings.read(
        args.step, settings=args.settings, files=args.config, overrides=args.overrides
    )


def call_step(function: Callable[..., Any], args: argparse.Namespace, **given: Any) -> Any:
    """Call a step's library function with the options of the same names (and its
    settings, when it takes them and `given` does not hold them)."""
    parameters = inspect.signature(function).parameters
    options = {name: value for name, value in vars(args).items() if name in parameters}
    if "settings" in parameters and "settings" not in given:
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


def grid_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--grid",
        nargs="+",
        type=assignment,
        default=[],
        metavar="NAME=VALUE",
        help="the pool's grid, as config pool.grid: start=, stop= and log10_step= (log-linear,"
        " Å) or points= (evenly spaced); unnamed keys keep their defaults",
    )


def parse_grid(assignments: list[tuple[str, str]]) -> np.ndarray:
    """The grid named by --grid, over the defaults of config pool.grid."""
    from alspec.preprocess import pool_grid

    grid = cfg.default("pool", "grid")
    for name, value in assignments:
        if name not in grid:
            raise ValueError(f"--grid {name}={value}: the keys are {', '.join(grid)}")
        try:
            grid[name] = float(value)
        except ValueError:
            raise ValueError(f"--grid {name}={value}: not a number") from None
    if grid["stop"] <= grid["start"]:
        raise ValueError(f"--grid: stop {grid['stop']} must be greater than start {grid['start']}")
    return pool_grid(grid)


def dask_options(p: argparse.ArgumentParser) -> None:
    dask = cfg.default("dask")
    p.add_argument(
        "--scheduler",
        default=dask["scheduler"],
        help="local (a cluster in this process), slurm (dask-jobqueue), or an address",
    )
    p.add_argument(
        "--slurm-options",
        type=json.loads,
        default=dask["slurm"],
        help="SLURMCluster options and jobs, as JSON (scheduler slurm)",
    )
    threads_option(p)


def window_shape_options(p: argparse.ArgumentParser) -> None:
    """The window's range, sampling and normalisation: the pool's and an external set's
    windows must be cut alike."""
    window = cfg.default("window")
    p.add_argument(
        "--range",
        type=float,
        nargs=2,
        metavar=("START", "STOP"),
        default=[window["start"], window["stop"]],
    )
    p.add_argument("--points", type=int, default=window["points"])
    p.add_argument(
        "--normalisation",
        choices=enum_choices("window.normalisation"),
        default=window["normalisation"],
    )
    p.add_argument("--min-coverage", type=float, default=window["min_coverage"])
    p.add_argument("--continuum-segment", type=int, default=window["continuum_segment"])


def held_out_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--held-out",
        type=Path,
        help="labelled set (id, label) kept for evaluation: never asked, never trained on",
    )


def held_out_ids(path: Path | None) -> set[str]:
    return set(read_table(path, required=("id", "label"))["id"]) if path else set()


def classes_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--classes", nargs="+", default=cfg.default("classes"))


def threads_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")


def interest_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--classes-of-interest", nargs="+", default=cfg.default("classes_of_interest"))
