"""The features: the window the CNN reads, PCA, lines and the map, each spectrum's
nearest neighbours; another instrument's labelled set made into windows like the pool's."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import (
    call_step,
    command,
    counts,
    settings_options,
    step_settings,
    threads_option,
)


def _store_options(p: argparse.ArgumentParser, step: str) -> None:
    p.add_argument("--pool", type=Path, required=True, help="the pool folder (catalog, shards)")
    p.add_argument("--out", type=Path, required=True, help="the Zarr store to write")
    threads_option(p)
    settings_options(p, step)


@command(
    "window",
    "extract and normalise the spectral window the CNN reads",
    lambda p: _store_options(p, "window"),
)
def run_window(args: argparse.Namespace) -> None:
    from alspec.features.steps import window

    done = call_step(window, args)
    print(f"window: {done['spectra']} spectra, {done['normalisation']} normalisation")


@command(
    "features",
    "PCA scores, line measurements and a 2-D map of every spectrum",
    lambda p: _store_options(p, "features"),
)
def run_features(args: argparse.Namespace) -> None:
    from alspec.features.steps import features

    done = call_step(features, args)
    print(
        f"features: {done['spectra']} spectra; {done['components']} PCA components"
        f" ({done['explained']:.0%} of the variance); lines {', '.join(done['lines'])};"
        f" map {done['map']}"
    )


def _neighbours_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--features", type=Path, required=True, help="the pool's features store")
    p.add_argument("--out", type=Path, required=True, help="the Zarr store to write")
    threads_option(p)
    settings_options(p, "neighbours")


@command(
    "neighbours",
    "each spectrum's nearest spectra in the features: the explorer's \"more like this\"",
    _neighbours_options,
)
def run_neighbours(args: argparse.Namespace) -> None:
    from alspec.features.steps import neighbours

    done = call_step(neighbours, args)
    print(f"neighbours: the {done['neighbours']} nearest of {done['spectra']} spectra")


def _transfer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="the set's spectrum files, directories or globs")
    p.add_argument("--labels", type=Path, required=True, help="table of id, label")
    p.add_argument("--out", type=Path, required=True, help="the set's window store")
    p.add_argument(
        "--labels-out", type=Path, required=True, help="its labels, in the pool's classes"
    )
    settings_options(p, "transfer")


@command(
    "transfer",
    "make a labelled set from another instrument look like the pool: vacuum, resolution, window",
    _transfer_options,
)
def run_transfer(args: argparse.Namespace) -> None:
    from alspec.features.steps import transfer

    settings = step_settings(args)
    kept = call_step(transfer, args, settings=settings)
    source, target = settings["initial"]["external"], settings["pool"]
    print(
        f"transfer: {len(kept)} spectra from R {source['resolving_power']:g}"
        f" to R {target['resolving_power']:g}: {counts(kept['label'])}"
    )
