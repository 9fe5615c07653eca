"""`alspec <step>`: one command per workflow step, so every rule also runs by hand.

Option defaults come from the configuration schema, so a step run by hand behaves as
it does in the workflow. Heavy libraries (TensorFlow) load only in the steps that
need them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from alspec import config as cfg
from alspec.io import read_json, read_table, write_json, write_table, write_text

Command = Callable[[argparse.Namespace], None]
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help: str, options: Callable[[argparse.ArgumentParser], None]):
    """Register the decorated function as step `name`; `options` adds its arguments."""

    def register(run: Command) -> Command:
        COMMANDS[name] = (run, options, help)
        return run

    return register


def _enum(key: str) -> list[str]:
    """The values the config schema allows for `key` ("model.type"): one list for the CLI
    and the config, equal to the code's registry (tests/test_config.py checks)."""
    return cfg.enum(key)


def _settings_options(p: argparse.ArgumentParser, step: str) -> None:
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


def _settings(args: argparse.Namespace, step: str) -> dict:
    from alspec import settings

    return settings.read(step, settings=args.settings, files=args.config, overrides=args.overrides)


def counts(labels: pd.Series) -> str:
    """ "other 97, single_peak 2": how many of each label, commonest first."""
    return ", ".join(f"{label} {n}" for label, n in labels.value_counts().items())


# --- config ---------------------------------------------------------------------------------


def _assignment(text: str) -> tuple[str, str]:
    """An option's NAME=VALUE, e.g. --rates p_cygni=0.002 or --input store=window.zarr."""
    name, separator, value = text.partition("=")
    if not separator or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _config_options(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="YAML config file to check")
    source.add_argument("--json", help="config as JSON text (how the workflow records it)")
    p.add_argument("--out", type=Path, help="write the resolved config (YAML) here")
    p.add_argument("--get", metavar="KEY", help="print one setting, e.g. oracle.labelstudio.url")


@command("config", "validate a configuration, fill in defaults, print or write it", _config_options)
def run_config(args: argparse.Namespace) -> None:
    resolved = cfg.load(args.file) if args.file else cfg.resolve(json.loads(args.json))
    if args.get:
        value = cfg.setting(resolved, args.get)
        print(value if isinstance(value, str | int | float) else json.dumps(value))
        return
    text = yaml.safe_dump(resolved, sort_keys=False)
    if args.out:
        write_text(text, args.out)
    else:
        print(text, end="")


# --- survey and pool ------------------------------------------------------------------------


def _simulate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", type=Path, required=True, help="writes OUT/spectra/ and OUT/truth.parquet"
    )
    p.add_argument(
        "--instrument",
        choices=[*_enum("simulate.instrument"), "ondrejov"],
        default="lamost",
        help="lamost: the survey; ondrejov: a labelled set from a high-resolution"
        " spectrograph; curves: seed 004 Table 1's data set, as one table (curves.csv)",
    )
    p.add_argument(
        "--n-spectra",
        type=int,
        help=f"default: {cfg.default('simulate', 'n_spectra')}; curves: Table 1's 49,950",
    )
    p.add_argument(
        "--rates",
        nargs="+",
        type=_assignment,
        default=[],
        metavar="CLASS=FRACTION",
        help="fraction of each emission class (single_peak, double_peak, and for anomaly"
        " mode p_cygni, forbidden_lines); default: the instrument's",
    )
    p.add_argument("--snr", type=float, nargs=2, help="S/N range; default: the instrument's")
    p.add_argument(
        "--snr-median",
        type=float,
        help="S/N log-normal with this median, clipped to --snr (default: log-uniform)",
    )
    p.add_argument(
        "--emission-ew",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help=f"emission equivalent widths, Å; default {cfg.default('simulate', 'emission_ew')}",
    )
    p.add_argument("--seed", type=int, default=cfg.default("simulate", "seed"))
    p.add_argument("--workers", type=int, default=1, help="processes writing files")


@command("simulate", "write a synthetic LAMOST-format survey with a truth table", _simulate_options)
def run_simulate(args: argparse.Namespace) -> None:
    from alspec.simulate import ONDREJOV, SurveyModel, simulate_survey

    if args.instrument == "curves":
        from alspec.curves import write_curves

        if args.rates or args.snr or args.snr_median or args.emission_ew:
            raise ValueError(
                "--rates, --snr, --snr-median, --emission-ew: the curves have Table 1's own"
                " classes and noise"
            )

        truth = write_curves(args.out, args.n_spectra, args.seed)
        print(f"wrote {len(truth)} curves to {args.out / 'spectra'}: {counts(truth['label'])}")
        return
    n_spectra = args.n_spectra or cfg.default("simulate", "n_spectra")
    simulate = cfg.default("simulate")
    survey = (
        ONDREJOV
        if args.instrument == "ondrejov"
        else SurveyModel(
            rates=simulate["rates"],
            snr=tuple(simulate["snr"]),
            snr_median=simulate["snr_median"],
            emission_ew=tuple(simulate["emission_ew"]),
        )
    )
    survey = SurveyModel(
        rates=survey.rates | {name: float(fraction) for name, fraction in args.rates},
        snr=tuple(args.snr or survey.snr),
        snr_median=args.snr_median or survey.snr_median,
        emission_ew=tuple(args.emission_ew or survey.emission_ew),
    )
    truth = simulate_survey(args.out, n_spectra, survey, args.seed, args.workers, args.instrument)
    print(f"wrote {len(truth)} spectra to {args.out / 'spectra'}: {counts(truth['kind'])}")


def _shard_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="spectrum files, directories, globs, or lists of paths")
    p.add_argument("--shard-size", type=int, default=cfg.default("pool", "shard_size"))
    p.add_argument("--out", type=Path, required=True, help="folder of shard lists to write")


@command("shard", "split the survey's files into shards, one list each", _shard_options)
def run_shard(args: argparse.Namespace) -> None:
    from alspec.pool import discover_files, write_shard_lists

    files = discover_files(args.files)
    shards = write_shard_lists(files, args.shard_size, args.out)
    print(f"shard: {len(files)} files in {shards} shard(s) of up to {args.shard_size}")


def _grid_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--grid",
        nargs="+",
        type=_assignment,
        default=[],
        metavar="NAME=VALUE",
        help="the pool's grid, as config pool.grid: start=, stop= and log10_step= (log-linear,"
        " Å) or points= (evenly spaced); unnamed keys keep their defaults",
    )


def _grid(assignments: list[tuple[str, str]]) -> np.ndarray:
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


def _ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shard_list", type=Path, help="the shard's list of files (alspec shard)")
    p.add_argument("--out", type=Path, required=True, help="the shard's folder to write")
    _grid_option(p)
    p.add_argument("--metadata", nargs="*", default=cfg.default("pool", "metadata"))
    p.add_argument("--block-size", type=int, default=cfg.default("pool", "block_size"))


@command("ingest", "read one shard's spectrum files into its Zarr store", _ingest_options)
def run_ingest(args: argparse.Namespace) -> None:
    from alspec.pool import ingest_shard

    with args.shard_list.open() as listing:
        total = sum(1 for line in listing if line.strip())
    with args.shard_list.open() as listing:
        files = (Path(line.strip()) for line in listing if line.strip())
        ingested, quarantined = ingest_shard(
            files, args.out, _grid(args.grid), args.metadata, args.block_size, total
        )
    print(f"ingest: {total} files: {ingested} spectra ingested, {quarantined} quarantined")


def _gather_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shards", nargs="+", type=Path, help="the shard folders")
    p.add_argument("--lists", type=Path, required=True, help="the folder of shard lists")
    p.add_argument("--catalog", type=Path, required=True)
    p.add_argument("--quarantine", type=Path, required=True)


@command("gather", "check that every file is accounted for; write one catalogue", _gather_options)
def run_gather(args: argparse.Namespace) -> None:
    from alspec.pool import gather

    gather(args.lists, args.shards, args.catalog, args.quarantine)


def _dask_options(p: argparse.ArgumentParser) -> None:
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
    _threads_option(p)


def _window_shape_options(p: argparse.ArgumentParser) -> None:
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
        "--normalisation", choices=_enum("window.normalisation"), default=window["normalisation"]
    )
    p.add_argument("--min-coverage", type=float, default=window["min_coverage"])
    p.add_argument("--continuum-segment", type=int, default=window["continuum_segment"])


def _window_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pool", type=Path, required=True, help="the pool folder (catalog, shards)")
    p.add_argument("--out", type=Path, required=True)
    _window_shape_options(p)
    p.add_argument("--block-size", type=int, default=cfg.default("pool", "block_size"))
    _dask_options(p)


@command("window", "extract and normalise the spectral window the CNN reads", _window_options)
def run_window(args: argparse.Namespace) -> None:
    from alspec import features
    from alspec.cluster import connect
    from alspec.io import atomic_output
    from alspec.pool import open_pool
    from alspec.preprocess import window_grid

    grid = window_grid(*args.range, args.points)
    with connect(args.scheduler, args.threads, args.slurm_options), atomic_output(args.out) as tmp:
        windows = features.window(
            open_pool(args.pool),
            grid,
            args.normalisation,
            args.min_coverage,
            args.continuum_segment,
        )
        encoding = {"flux": {"chunks": (args.block_size, grid.size)}}
        features.write(windows.chunk({"spectrum": args.block_size}), tmp, "window", **encoding)
    print(f"window: {windows.sizes['spectrum']} spectra, {args.normalisation} normalisation")


def _line(values: list[str]) -> dict:
    name, *edges = values
    centre, core_low, core_high, blue_low, blue_high, red_low, red_high = map(float, edges)
    return {
        "name": name,
        "centre": centre,
        "core": [core_low, core_high],
        "continuum": [[blue_low, blue_high], [red_low, red_high]],
    }


def _features_options(p: argparse.ArgumentParser) -> None:
    features = cfg.default("features")
    pca, lines, embedding = features["pca"], features["lines"], features["map"]
    p.add_argument("--pool", type=Path, required=True, help="the pool folder (catalog, shards)")
    p.add_argument("--out", type=Path, required=True, help="the features' Zarr store")
    p.add_argument("--continuum-segment", type=int, default=features["continuum_segment"])
    p.add_argument("--pca-components", type=int, default=pca["components"])
    p.add_argument("--pca-sample", type=int, default=pca["sample"])
    p.add_argument("--pca-bin", type=int, default=pca["bin"])
    p.add_argument("--pca-seed", type=int, default=pca["seed"])
    p.add_argument(
        "--line",
        nargs=8,
        action="append",
        metavar=("NAME", "CENTRE", "CORE_LO", "CORE_HI", "BLUE_LO", "BLUE_HI", "RED_LO", "RED_HI"),
        help=f"a line to measure, vacuum Å (repeat for more; default {lines[0]['name']})",
    )
    p.add_argument("--map", choices=_enum("features.map.method"), default=embedding["method"])
    p.add_argument("--map-sample", type=int, default=embedding["sample"])
    p.add_argument("--tsne-max", type=int, default=embedding["tsne_max"])
    p.add_argument("--map-seed", type=int, default=embedding["seed"])
    p.add_argument("--block-size", type=int, default=cfg.default("pool", "block_size"))
    _dask_options(p)


@command(
    "features", "PCA scores, line measurements and a 2-D map of every spectrum", _features_options
)
def run_features(args: argparse.Namespace) -> None:
    import xarray as xr

    from alspec import features
    from alspec.cluster import connect
    from alspec.io import as_strings, atomic_output
    from alspec.lines import Line
    from alspec.pool import open_pool, open_store

    entries = (
        [_line(values) for values in args.line] if args.line else cfg.default("features", "lines")
    )
    cfg.check_lines(entries)
    lines = [Line.from_config(entry) for entry in entries]
    with connect(args.scheduler, args.threads, args.slurm_options), atomic_output(args.out) as tmp:
        pool = open_pool(args.pool)
        matrix = features.spectra_matrix(pool, args.continuum_segment, args.pca_bin)
        pca = features.fit_pca(matrix, args.pca_components, args.pca_sample, args.pca_seed)
        table = xr.merge(
            [
                features.pca_dataset(pool, matrix, pca, args.pca_bin),
                features.line_measurements(pool, lines),
            ],
            compat="override",
        )
        features.write(table.chunk({"spectrum": args.block_size}), tmp, "PCA scores and lines")
        method = features.map_method(args.map, pool.sizes["spectrum"], args.tsne_max)
        if method != "none":
            scores = open_store(tmp).pca.chunk({"spectrum": args.block_size}).data
            coordinates = features.embed(scores, method, args.map_sample, args.map_seed)
            embedding = xr.Dataset(
                {"map_coordinates": (("spectrum", "map_axis"), coordinates)},
                coords={"map_axis": as_strings(["x", "y"])},
                attrs={"map_method": method},
            )
            features.write(embedding, tmp, f"{method} map", mode="a")
    explained = pca.explained_variance_ratio_.sum()
    names = ", ".join(line.name for line in lines)
    print(
        f"features: {pool.sizes['spectrum']} spectra; {pca.n_components_} PCA components"
        f" ({explained:.0%} of the variance); lines {names}; map {method}"
    )


# --- labels ---------------------------------------------------------------------------------


def _cold_start_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--window", type=Path, required=True)
    p.add_argument("--size", type=int, default=cfg.default("initial", "size"))
    p.add_argument("--seed", type=int, default=cfg.default("initial", "seed"))
    p.add_argument("--ids", type=Path, help="ask these spectra instead: a file of ids, one a line")
    _held_out_option(p)
    p.add_argument("--out", type=Path, required=True)


@command(
    "cold-start",
    "the first batch to label: drawn at random from the pool (FR5) or chosen (FR7)",
    _cold_start_options,
)
def run_cold_start(args: argparse.Namespace) -> None:
    from alspec.pool import open_store
    from alspec.query import chosen_batch, random_batch

    window = open_store(args.window)
    ids = window.id.values[window.valid.values]
    ids = ids[~np.isin(ids, list(held_out_ids(args.held_out)))]
    if args.ids:
        lines = (line.strip() for line in args.ids.read_text().splitlines())
        wanted = [line for line in lines if line and not line.startswith("#")]
        batch = chosen_batch(wanted, set(ids), str(args.ids))
    else:
        batch = random_batch(ids, args.size, np.random.default_rng(args.seed))
    write_table(batch, args.out)
    print(f"cold start: {len(batch)} spectra to label")


def _held_out_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--held-out",
        type=Path,
        help="labelled set (id, label) kept for evaluation: never asked, never trained on",
    )


def held_out_ids(path: Path | None) -> set[str]:
    return set(read_table(path, required=("id", "label"))["id"]) if path else set()


def _classes_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--classes", nargs="+", default=cfg.default("classes"))


def _training_set_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("labels", nargs="*", type=Path, help="label tables, oldest first (or none)")
    _classes_option(p)
    _held_out_option(p)
    p.add_argument("--out", type=Path, required=True)


@command(
    "training-set",
    "merge label tables; a later answer replaces an earlier one",
    _training_set_options,
)
def run_training_set(args: argparse.Namespace) -> None:
    from alspec import labels

    tables = [read_table(path, required=("id", "label")) for path in args.labels]
    for path, table in zip(args.labels, tables, strict=True):
        labels.check(table, args.classes, str(path))
    merged = labels.merge(tables)
    held_out = merged["id"].isin(held_out_ids(args.held_out))
    if held_out.any():
        print(f"training set: {int(held_out.sum())} spectra of the held-out set left out")
        merged = merged.loc[~held_out].reset_index(drop=True)
    write_table(merged, args.out)
    print(f"training set: {len(merged)} labelled spectra: {counts(merged['label'])}")


def _threads_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: all cores)")


def _transfer_options(p: argparse.ArgumentParser) -> None:
    external = cfg.default("initial", "external")
    p.add_argument("files", nargs="+", help="the set's spectrum files, directories or globs")
    p.add_argument("--labels", type=Path, required=True, help="table of id, label")
    p.add_argument(
        "--label-map",
        nargs="*",
        type=_assignment,
        default=list(external["label_map"].items()),
        metavar="FROM=TO",
        help="the set's labels in the pool's classes",
    )
    _classes_option(p)
    p.add_argument("--resolving-power", type=float, default=external["resolving_power"])
    p.add_argument(
        "--target-resolving-power", type=float, default=cfg.default("pool", "resolving_power")
    )
    _grid_option(p)
    _window_shape_options(p)
    p.add_argument("--out", type=Path, required=True, help="the set's window store")
    p.add_argument(
        "--labels-out", type=Path, required=True, help="its labels, in the pool's classes"
    )


@command(
    "transfer",
    "make a labelled set from another instrument look like the pool: vacuum, resolution, window",
    _transfer_options,
)
def run_transfer(args: argparse.Namespace) -> None:
    from alspec import labels
    from alspec.io import atomic_output
    from alspec.pool import discover_files
    from alspec.preprocess import window_grid
    from alspec.transfer import relabel, transfer_windows

    table = relabel(read_table(args.labels, required=("id", "label")), dict(args.label_map))
    labels.check(table, args.classes, f"{args.labels} (after --label-map)")
    store, kept, skipped = transfer_windows(
        discover_files(args.files),
        table,
        args.resolving_power,
        args.target_resolving_power,
        _grid(args.grid),
        window_grid(*args.range, args.points),
        args.normalisation,
        args.min_coverage,
        args.continuum_segment,
    )
    for line in skipped:
        print(f"transfer: left out {line}")
    with atomic_output(args.out) as tmp:
        store.to_zarr(tmp, consolidated=False)
    write_table(kept, args.labels_out)
    print(
        f"transfer: {len(kept)} spectra from R {args.resolving_power:g} to"
        f" R {args.target_resolving_power:g}: {counts(kept['label'])}"
    )


# --- model ----------------------------------------------------------------------------------


def _train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--inputs",
        type=Path,
        nargs="+",
        required=True,
        help="the CNN: window stores (the pool's, and an external labelled set's from alspec"
        " transfer); a scikit-learn model: the pool's features store",
    )
    p.add_argument("--training-set", type=Path, required=True)
    p.add_argument("--iteration", type=int, default=0, help="names the checkpoint")
    p.add_argument("--model", type=Path, required=True, help="where to save the model")
    p.add_argument(
        "--checkpoints",
        type=Path,
        help="also keep the model here as iteration-<n>_val-f1-<F1> (seed 001)",
    )
    p.add_argument("--report", type=Path, required=True, help="training report (JSON)")
    _threads_option(p)
    _settings_options(p, "train")


@command("train", "train the model (the CNN, or scikit-learn models) on the labels", _train_options)
def run_train(args: argparse.Namespace) -> None:
    from alspec.training import train_iteration

    report = train_iteration(
        inputs=args.inputs,
        training_set=args.training_set,
        model_path=args.model,
        report_path=args.report,
        settings=_settings(args, "train"),
        iteration=args.iteration,
        checkpoints=args.checkpoints,
        threads=args.threads,
    )
    print(
        f"train: {report['type']} on {sum(report['examples'].values())} labels"
        f" ({report['balance']}) on {report['device']}, {validation_f1_text(report)}"
    )


def validation_f1_text(report: dict) -> str:
    """ "validation F1 0.93", or why it is not measurable yet."""
    if report.get("not_measurable"):
        return (
            f"validation F1 not measurable yet (no {', '.join(report['not_measurable'])}"
            " in the validation split)"
        )
    f1 = report.get("validation_f1")
    return "no validation F1 (no validation split)" if f1 is None else f"validation F1 {f1:.2f}"


def _predict_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--inputs",
        type=Path,
        required=True,
        help="the pool's window store (the CNN) or features store (scikit-learn models)",
    )
    p.add_argument("--model", type=Path, required=True, help="model.keras or model.joblib")
    p.add_argument(
        "--training-report", type=Path, help="the train step's report: the class fractions"
    )
    p.add_argument("--part", type=int, default=0, help="which part of the pool (0-based)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--block-size", type=int, default=8192)
    _threads_option(p)
    _settings_options(p, "predict")


@command(
    "predict", "classify every spectrum of the pool: probabilities and entropy", _predict_options
)
def run_predict(args: argparse.Namespace) -> None:
    from alspec.inference import predict_part

    done = predict_part(
        inputs=args.inputs,
        model_path=args.model,
        out=args.out,
        settings=_settings(args, "predict"),
        training_report=args.training_report,
        part=args.part,
        block_size=args.block_size,
        threads=args.threads,
    )
    print(
        f"predicted {done['spectra']} spectra (part {args.part + 1} of {done['parts']})"
        f" on {done['device']} into {args.out}"
    )


def _gather_predictions_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("parts", nargs="+", type=Path, help="the parts' prediction tables, in order")
    p.add_argument("--out", type=Path, required=True)


@command(
    "gather-predictions",
    "join the parts of the pool's predictions into one table",
    _gather_predictions_options,
)
def run_gather_predictions(args: argparse.Namespace) -> None:
    from alspec.io import concatenate_tables

    n = concatenate_tables(args.parts, args.out)
    print(f"predictions: {n} spectra from {len(args.parts)} part(s) into {args.out}")


# --- query, oracle, evaluation ----------------------------------------------------------------


def _interest_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--classes-of-interest", nargs="+", default=cfg.default("classes_of_interest"))


def _query_options(p: argparse.ArgumentParser) -> None:
    query = cfg.default("query")
    p.add_argument("--predictions", type=Path, required=True)
    p.add_argument(
        "--training-set", type=Path, required=True, help="answers so far: never re-asked"
    )
    _interest_option(p)
    _classes_option(p)
    p.add_argument(
        "--strategy",
        choices=_enum("query.strategy"),
        default=query["strategy"],
    )
    p.add_argument("--batch-size", type=int, default=query["batch_size"])
    p.add_argument(
        "--diverse-from",
        type=Path,
        metavar="WINDOW",
        help="spread the batch over different-looking windows (this store's)",
    )
    p.add_argument("--shortlist", type=int, default=query["diversity"]["shortlist"])
    p.add_argument("--random-sample-size", type=int, default=query["random_sample_size"])
    p.add_argument("--pool-sample-size", type=int, default=query["pool_sample_size"])
    discovery = query["discovery"]
    p.add_argument(
        "--discovery-sources",
        nargs="*",
        choices=_enum("query.discovery.sources"),
        default=[],
        help="while a class of interest is scarce, mix these sources into the batch",
    )
    p.add_argument("--features", type=Path, help="the pool's features.zarr (discovery)")
    p.add_argument("--anomaly-scores", type=Path, help="alspec detect's table (discovery)")
    p.add_argument("--min-examples", type=int, default=discovery["min_examples"])
    p.add_argument("--max-share", type=float, default=discovery["max_share"])
    p.add_argument(
        "--prior",
        nargs=3,
        metavar=("FEATURE", "LINE", "ORDER"),
        help="the prior source: e.g. ew halpha ascending",
    )
    _held_out_option(p)
    p.add_argument("--seed", type=int, default=query["seed"])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--candidates", type=Path, required=True)


@command("query", "choose the batch to ask: most uncertain plus random candidates", _query_options)
def run_query(args: argparse.Namespace) -> None:
    from alspec.pool import select
    from alspec.query import (
        candidates,
        diverse_scores,
        probability_columns,
        select_batch,
        top_scores,
    )
    from alspec.strategies import COMMITTEE, scores

    columns = probability_columns(args.classes)
    predictions = read_table(args.predictions, required=("id", "predicted", *columns))
    answered = read_table(args.training_set, required=("id", "label"))
    rng = np.random.default_rng(args.seed)
    if args.strategy in COMMITTEE:
        if args.strategy not in predictions:
            raise ValueError(
                f"{args.predictions}: no {args.strategy} scores; predict with a committee"
                " (alspec predict --committee-members, or a scikit-learn committee)"
            )
        # scored by the predict step, where the committee's members are
        predictions["score"] = predictions[args.strategy]
    else:
        predictions["score"] = scores(args.strategy, predictions[columns].to_numpy(), rng)
    pick = top_scores
    if args.diverse_from:

        def windows(ids: list[str]) -> np.ndarray:
            return np.nan_to_num(select([args.diverse_from], ids).flux.values)

        pick = diverse_scores(windows, args.shortlist, args.seed)
    if args.discovery_sources:
        pick = _discovery_pick(args, pick, answered)
    batch = select_batch(
        predictions,
        {*answered["id"], *held_out_ids(args.held_out)},
        args.classes_of_interest,
        args.batch_size,
        args.random_sample_size,
        rng,
        pick,
        args.pool_sample_size,
    )
    found = candidates(predictions, answered, args.classes_of_interest)
    write_table(batch, args.out)
    write_table(found, args.candidates)
    print(
        f"query ({args.strategy}): {len(batch)} spectra to label ({counts(batch['reason'])});"
        f" {len(found)} candidates"
    )


def _discovery_pick(args: argparse.Namespace, exploit, answered: pd.DataFrame):
    """The batch's pick with discovery sources mixed in while a class is scarce; only the
    sources the plan asks anything of read the pool."""
    from alspec import discovery
    from alspec.pool import open_store
    from alspec.query import UNCERTAIN

    if not args.features:
        raise ValueError("--discovery-sources: give the pool's features store (--features)")
    if "anomaly" in args.discovery_sources and not args.anomaly_scores:
        raise ValueError("--discovery-sources anomaly: give alspec detect's --anomaly-scores")
    plan = discovery.plan_batch(
        answered,
        exploit_reason=UNCERTAIN,
        sources=args.discovery_sources,
        classes_of_interest=args.classes_of_interest,
        min_examples=args.min_examples,
        max_share=args.max_share,
        batch_size=args.batch_size,
    )
    arms = ", ".join(
        f"{arm} {a['asked']} ({a['hits']} hits in {a['picks']})" for arm, a in plan["arms"].items()
    )
    print(f"discovery: scarcity {plan['scarcity']:.2f}; asked: {arms}")
    counts = discovery.explored(plan, UNCERTAIN)
    if not counts:
        return exploit
    prior = dict(zip(("feature", "line", "order"), args.prior, strict=True)) if args.prior else None
    sources = discovery.pool_sources(
        list(counts),
        features=open_store(args.features),
        anomaly_scores=read_table(args.anomaly_scores) if args.anomaly_scores else None,
        prior=prior,
        labelled=set(answered["id"]),
        seed=args.seed,
    )
    return discovery.mixed_pick(counts, sources, exploit)


# --- anomaly mode (seed 004) ----------------------------------------------------------------


def _pool_features(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The pool's ids and its features, ready for distances: from a features store its
    PCA scores and line measurements, standardised; from a pool directory its raw values
    on the pool's grid (seed 004 §6), masked pixels set to their column's median."""
    from alspec.anomaly import prepared
    from alspec.classifiers import feature_matrix
    from alspec.pool import open_pool, open_store

    if (path / "catalog.parquet").exists():
        pool = open_pool(path)
        values = pool.flux.where(pool.ivar > 0).values
        return np.array([str(i) for i in pool.id.values], dtype=object), prepared(values, False)
    features = open_store(path)
    if "pca" not in features:
        raise ValueError(
            f"{path}: neither a features store (no `pca`; run `alspec features`) nor a pool"
            " directory (no catalog.parquet)"
        )
    ids = np.array([str(i) for i in features.id.values], dtype=object)
    return ids, prepared(feature_matrix(features))


def _anomaly_features_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--features",
        type=Path,
        required=True,
        help="the pool's features.zarr, or the pool directory to read its raw values",
    )


def _detect_options(p: argparse.ArgumentParser) -> None:
    anomaly = cfg.default("anomaly")
    _anomaly_features_option(p)
    p.add_argument("--detector", choices=_enum("anomaly.detector"), default=anomaly["detector"])
    p.add_argument("--neighbours", type=int, default=anomaly["neighbours"], help="LOF's")
    p.add_argument("--seed", type=int, default=anomaly["seed"])
    p.add_argument("--out", type=Path, required=True, help="table of id, score")
    _threads_option(p)


@command("detect", "score every spectrum's anomaly from its features (0..1)", _detect_options)
def run_detect(args: argparse.Namespace) -> None:
    from alspec.anomaly import detector_scores

    ids, matrix = _pool_features(args.features)
    score = detector_scores(
        matrix, args.detector, args.seed, args.neighbours, threads=args.threads or -1
    )
    write_table(pd.DataFrame({"id": ids, "score": score}), args.out)
    top = ", ".join(ids[np.argsort(-score)[:3]])
    print(f"detect: {args.detector} on {len(ids)} spectra, {matrix.shape[1]} features; top: {top}")


def _rank_options(p: argparse.ArgumentParser) -> None:
    anomaly = cfg.default("anomaly")
    relevance = anomaly["relevance"]
    _anomaly_features_option(p)
    p.add_argument("--scores", type=Path, required=True, help="the detector's scores")
    p.add_argument("--training-set", type=Path, required=True, help="relevance answers so far")
    for name in ("alpha", "epsilon1", "epsilon2"):
        p.add_argument(f"--{name}", type=float, default=relevance[name])
    p.add_argument("--maximum", type=int, default=relevance["maximum"], help="Umax")
    p.add_argument("--batch-size", type=int, default=cfg.default("query", "batch_size"))
    p.add_argument("--candidates-size", type=int, default=anomaly["candidates"])
    p.add_argument("--seed", type=int, default=anomaly["seed"])
    p.add_argument("--out", type=Path, required=True, help="the ranked pool")
    p.add_argument("--query", type=Path, required=True, help="the batch to ask")
    p.add_argument("--candidates", type=Path, required=True, help="the top of the ranking")
    p.add_argument("--report", type=Path, required=True, help="what the relevance forest saw")
    _threads_option(p)


@command("rank", "re-rank the pool by anomaly and learned relevance; ask the top", _rank_options)
def run_rank(args: argparse.Namespace) -> None:
    import os

    from alspec import anomaly
    from alspec.labels import UNSURE, check
    from alspec.placement import this_job

    ids, matrix = _pool_features(args.features)
    scores = read_table(args.scores, required=("id", "score")).set_index("id")["score"]
    missing = set(ids) - set(scores.index)
    if missing:
        raise ValueError(
            f"{args.scores}: no score for {len(missing)} spectra, e.g. {sorted(missing)[:3]}"
        )
    score = scores.reindex(ids).to_numpy()
    answers = read_table(args.training_set, required=("id", "label"))
    check(answers, cfg.relevance_levels(args.maximum), str(args.training_set))
    given = answers.loc[answers["label"] != UNSURE]
    rows = pd.Index(ids).get_indexer(given["id"])
    if (rows < 0).any():
        strangers = list(given["id"][rows < 0][:3])
        raise ValueError(
            f"{args.training_set}: {int((rows < 0).sum())} answers are not in the pool,"
            f" e.g. {strangers}"
        )
    relevance = given["label"].astype(float).to_numpy()
    constants = anomaly.Relevance(args.alpha, args.epsilon1, args.epsilon2, args.maximum)
    if len(rows):
        trained, predicted = anomaly.rerank(
            matrix, score, rows, relevance, constants, args.seed, args.threads or -1
        )
    else:  # nothing answered yet: the detector's ranking
        trained, predicted = score.copy(), np.full(len(ids), np.nan)
    pool = pd.DataFrame(
        {"id": ids, "score": score, "relevance": predicted, "trained_score": trained}
    )
    ranked, query, top = anomaly.ranked_outputs(
        pool, set(answers["id"]), args.batch_size, args.candidates_size
    )
    write_table(ranked, args.out)
    write_table(query, args.query)
    write_table(top, args.candidates)
    report = {
        "type": "relevance_forest",
        "labels": len(rows),
        "relevance": {
            level: int((given["label"] == level).sum()) for level in sorted(set(given["label"]))
        },
        "constants": vars(constants),
        "device": "CPU",
        "job": this_job(os.environ),
        "threads": args.threads,
    }
    write_json(report, args.report)
    print(
        f"rank: {len(ids)} spectra re-ranked from {len(rows)} relevance answers;"
        f" asking the top {len(query)} not yet answered"
    )


def _oracle_options(p: argparse.ArgumentParser, pushing: bool) -> None:
    ls = cfg.default("oracle", "labelstudio")
    p.add_argument("--backend", choices=_enum("oracle.backend"), required=True)
    p.add_argument("--query", type=Path, required=True)
    p.add_argument("--batch", required=True, help="name of the batch, e.g. iterations/2")
    p.add_argument("--receipt", type=Path, required=True, help="what push recorded (JSON)")
    _classes_option(p)
    p.add_argument("--token-file", type=Path, default=ls["token_file"])
    if pushing:
        p.add_argument("--window", type=Path, help="window store (labelstudio: shown on the page)")
        p.add_argument("--pool", type=Path, help="pool folder (labelstudio: whole spectra shown)")
        p.add_argument(
            "--metadata", nargs="+", default=ls["metadata"], help="catalogue columns shown"
        )
        p.add_argument("--url", default=ls["url"])
        p.add_argument("--project", default=ls["project"])
    else:
        p.add_argument("--truth", type=Path, help="truth table (simulated backend)")
        p.add_argument(
            "--relevance-of",
            nargs="+",
            type=_assignment,
            metavar="CLASS=RELEVANCE",
            help="anomaly mode, simulated backend: answer each truth class's relevance",
        )
        p.add_argument(
            "--catalogue", type=Path, help="the pool's label catalogue, to add the answers to"
        )
        p.add_argument("--session", default=ls["project"], help="learning session's name")
        p.add_argument("--out", type=Path, required=True)


@command("push", "send a query batch to the oracle", lambda p: _oracle_options(p, pushing=True))
def run_push(args: argparse.Namespace) -> None:
    query = read_table(args.query, required=("id", "score", "reason", "predicted"))
    if args.backend == "simulated":
        from alspec.oracles import simulated

        receipt = simulated.push(query, args.batch)
    else:
        from alspec.oracles import labelstudio

        if args.window is None or args.pool is None:
            raise ValueError("push: the labelstudio oracle needs --window and --pool")
        page = labelstudio.Page(args.window, args.pool, tuple(args.metadata))
        receipt = labelstudio.push(
            query,
            page,
            args.batch,
            args.url,
            args.project,
            args.token_file,
            args.classes,
        )
    write_json(receipt, args.receipt)
    print(f"push: {len(query)} spectra of batch {args.batch} sent to the {args.backend} oracle")


@command("pull", "collect the oracle's answers to a batch", lambda p: _oracle_options(p, False))
def run_pull(args: argparse.Namespace) -> None:
    from alspec import labels

    query = read_table(args.query, required=("id", "score", "reason", "predicted"))
    receipt = read_json(args.receipt)
    if receipt["backend"] != args.backend:
        raise ValueError(
            f"{args.receipt}: the batch was pushed to {receipt['backend']}, "
            f"not {args.backend}: push it again"
        )
    if args.backend == "simulated":
        from alspec.oracles import simulated

        if args.truth is None:
            raise ValueError("pull: the simulated oracle needs --truth (oracle.truth)")
        relevance_of = dict(args.relevance_of) if args.relevance_of else None
        answers = simulated.pull(query, args.truth, args.batch, relevance_of)
    else:
        from alspec.oracles import labelstudio

        answers = labelstudio.pull(receipt, query, args.classes, args.token_file)
    labels.check(answers, args.classes, f"answers to batch {args.batch}")
    write_table(answers, args.out)
    print(f"pull: {len(answers)} answers to batch {args.batch}")
    if args.catalogue:
        size = labels.record(answers, args.catalogue, args.session)
        print(f"pull: the label catalogue {args.catalogue} holds {size} answers")


def _watch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--configfile",
        type=Path,
        nargs="+",
        default=[Path("config/config.yaml")],
        help="the workflow's config file(s), later ones overriding (passed on to Snakemake)",
    )
    p.add_argument(
        "--snakemake",
        default="snakemake --profile profiles/default",
        help="how to run the workflow, e.g. 'snakemake --profile profiles/slurm'",
    )
    p.add_argument("--poll", type=float, default=30, help="seconds between checks")
    p.add_argument("--port", type=int, default=0, help="webhook receiver's port (0: any free)")
    p.add_argument("--token-file", type=Path, help="default: oracle.labelstudio.token_file")


@command("watch", "wait for each batch to be labelled, then run the next iteration", _watch_options)
def run_watch(args: argparse.Namespace) -> None:
    import shlex

    from alspec.watch import Workflow, watch

    config = cfg.load(*args.configfile)
    configfiles = tuple(map(str, args.configfile))
    workflow = Workflow(
        tuple(shlex.split(args.snakemake)), configfiles, Path("results"), config["iterations"]
    )
    token_file = args.token_file or config["oracle"]["labelstudio"]["token_file"]
    watch(workflow, token_file, args.poll, args.port)


def _evaluate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--labels", type=Path, required=True, help="the oracle's answers to this batch")
    p.add_argument("--training-set", type=Path, required=True)
    p.add_argument("--predictions", type=Path, required=True)
    p.add_argument("--candidates", type=Path, required=True)
    _classes_option(p)
    _interest_option(p)
    p.add_argument("--truth", type=Path, help="optional truth table to score predictions against")
    _held_out_option(p)
    p.add_argument("--training-report", type=Path, help="the train step's report (validation F1)")
    p.add_argument("--confidence", type=float, default=cfg.default("evaluation", "confidence"))
    p.add_argument(
        "--min-examples",
        type=int,
        default=cfg.default("query", "discovery", "min_examples"),
        help="a class of interest with fewer labels (the training set and this batch) is scarce",
    )
    p.add_argument("--out", type=Path, required=True)


@command(
    "evaluate",
    "estimate the candidates' precision; score against a truth if known",
    _evaluate_options,
)
def run_evaluate(args: argparse.Namespace) -> None:
    from alspec import metrics

    answers = read_table(args.labels, required=("id", "label", "reason", "predicted"))
    found = read_table(args.candidates)
    estimate = metrics.candidate_precision(answers, args.classes_of_interest, args.confidence)
    training_set = read_table(args.training_set, required=("id", "label"))
    labelled = pd.concat([training_set["label"], answers["label"]], ignore_index=True)
    report = {
        "iteration": args.iteration,
        "training_set_size": len(training_set),
        "candidates": len(found),
        "candidates_predicted": int((found["source"] == "predicted").sum()),
        "candidate_precision": estimate,
        "pool_sample": metrics.pool_estimate(answers, args.classes_of_interest, args.confidence),
        "batch": metrics.picks_by_reason(answers, args.classes_of_interest),
        "scarce": metrics.scarce_classes(labelled, args.classes_of_interest, args.min_examples),
    }
    if args.training_report:
        training = read_json(args.training_report)
        report["validation_f1"] = training["validation_f1"]
        if training.get("not_measurable"):
            report["not_measurable"] = training["not_measurable"]
    known = {
        key: path for key, path in (("truth", args.truth), ("held_out", args.held_out)) if path
    }
    predicted = read_table(args.predictions, required=("id", "predicted")) if known else None
    for key, path in known.items():
        report[key] = metrics.truth_scores(
            predicted,
            read_table(path, required=("id", "label")),
            args.classes,
            args.classes_of_interest,
        )
    write_json(report, args.out)
    print(summary_line(report))


def _named_path(text: str) -> tuple[str, Path]:
    name, path = _assignment(text)
    return name, Path(path)


def _provenance_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--config-json", required=True, help="the resolved config, as JSON text")
    p.add_argument("--query-seed", type=int, required=True, help="the seed of this batch")
    for option, what in (("--input", "an input"), ("--product", "a product")):
        p.add_argument(
            option,
            type=_named_path,
            action="append",
            default=[],
            metavar="NAME=PATH",
            help=f"{what} of the iteration to checksum (a file or a Zarr store)",
        )
    p.add_argument("--training-report", type=Path, required=True, help="training.json")
    p.add_argument("--repository", type=Path, required=True, help="the workflow's git checkout")
    p.add_argument("--out", type=Path, required=True)


@command(
    "provenance",
    "record what an iteration was made from: config, versions, commit, seeds, checksums",
    _provenance_options,
)
def run_provenance(args: argparse.Namespace) -> None:
    from alspec import provenance

    record = provenance.record(
        args.iteration,
        cfg.resolve(json.loads(args.config_json)),
        args.query_seed,
        dict(args.input),
        dict(args.product),
        read_json(args.training_report),
        args.repository,
    )
    write_json(record, args.out)
    commit = record["git"]["commit"] or "no git checkout"
    print(
        f"provenance of iteration {args.iteration}: commit {commit},"
        f" {len(record['inputs']) + len(record['products'])} checksums, into {args.out}"
    )


def _evaluate_ranking_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--scores", type=Path, required=True, help="the detector's scores")
    p.add_argument("--ranked", type=Path, required=True, help="the re-ranked pool")
    p.add_argument("--labels", type=Path, required=True, help="the answers to this batch")
    p.add_argument("--training-set", type=Path, required=True)
    p.add_argument("--truth", type=Path, help="truth table: rank-weighted scores per class")
    p.add_argument(
        "--inliers",
        nargs="+",
        default=cfg.default("anomaly", "inliers"),
        help="the truth's classes that are no anomaly",
    )
    p.add_argument("--out", type=Path, required=True)


@command(
    "evaluate-ranking",
    "anomaly mode: relevance of the batch; RWS and recall per class before and after",
    _evaluate_ranking_options,
)
def run_evaluate_ranking(args: argparse.Namespace) -> None:
    from alspec.anomaly import class_ranking_scores
    from alspec.labels import UNSURE

    answers = read_table(args.labels, required=("id", "label"))
    given = answers.loc[answers["label"] != UNSURE, "label"].astype(int)
    report = {
        "mode": "anomaly",
        "iteration": args.iteration,
        "training_set_size": len(read_table(args.training_set)),
        "batch_relevance": {
            "mean": float(given.mean()) if len(given) else None,
            "counts": {str(k): int(v) for k, v in given.value_counts().sort_index().items()},
        },
    }
    if args.truth:
        truth = read_table(args.truth, required=("id", "label")).set_index("id")["label"]
        raw = read_table(args.scores, required=("id", "score"))
        raw = raw.sort_values("score", ascending=False, kind="stable")
        ranked = read_table(args.ranked, required=("id", "trained_score"))
        classes = sorted(set(truth) - set(args.inliers))
        report["before"] = class_ranking_scores(truth.reindex(raw["id"]).to_numpy(), classes)
        report["after"] = class_ranking_scores(truth.reindex(ranked["id"]).to_numpy(), classes)
    write_json(report, args.out)
    print(summary_line(report))


def summary_line(report: dict) -> str:
    """One line per iteration: the numbers an astronomer watches."""
    if report.get("mode") == "anomaly":
        return anomaly_summary_line(report)
    estimate = report["candidate_precision"]
    line = f"iteration {report['iteration']}: {report['training_set_size']} labels, "
    line += f"{report['candidates']} candidates"
    if estimate["precision"] is not None:
        low, high = estimate["precision_interval"]
        line += (
            f", precision {estimate['precision']:.2f} "
            f"[{low:.2f}, {high:.2f}] from {estimate['sample_size']} random candidates"
        )
    if "validation_f1" in report:
        line += f"; {validation_f1_text(report)}"
    if report.get("scarce"):
        few = ", ".join(f"{c} {n}" for c, n in report["scarce"].items())
        line += f"; too few labels to trust yet: {few}"
    if report.get("batch"):
        asked = ", ".join(
            f"{reason} {b['of_interest']}/{b['asked']}" for reason, b in report["batch"].items()
        )
        line += f"; batch (of interest/asked): {asked}"
    for key, against in (("held_out", "the held-out set"), ("truth", "the truth")):
        if report.get(key):
            scores = report[key]
            f1 = ", ".join(f"{c} {scores['per_class'][c]['f1']:.2f}" for c in scores["interest"])
            line += f"; F1 on {against}: {f1}"
    return line


def anomaly_summary_line(report: dict) -> str:
    """An anomaly-mode iteration: the batch's relevance, each class's RWS before/after."""
    mean = report["batch_relevance"]["mean"]
    line = f"iteration {report['iteration']}: {report['training_set_size']} relevance answers"
    line += f", batch relevance {'n/a' if mean is None else f'{mean:.1f}'}"
    if "after" in report:
        rws = ", ".join(
            f"{c} {report['before'][c]['rws']:.2f} -> {s['rws']:.2f}"
            for c, s in report["after"].items()
            if s["rws"] is not None
        )
        line += f"; RWS(N = class size) before -> after relevance learning: {rws}"
    return line


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", type=Path, nargs="?", default=Path("results"))


@command("report", "print each iteration's performance", _report_options)
def run_report(args: argparse.Namespace) -> None:
    from alspec import layout

    folders = layout.iteration_folders(args.results)
    if not folders:
        raise FileNotFoundError(f"{args.results}: no iterations/*/{layout.PERFORMANCE} yet")
    for folder in folders:
        print(summary_line(read_json(folder / layout.PERFORMANCE)))
    print(
        f"results: {args.results.resolve()}/iterations/<n>/ (predictions, query, candidates, "
        "labels, model, performance)"
    )


# --- entry point ----------------------------------------------------------------------------


class _StdoutHandler(logging.StreamHandler):
    """The library's log lines on the current stdout, in order with the step's summary."""

    def emit(self, record: logging.LogRecord) -> None:
        self.setStream(sys.stdout)
        super().emit(record)


def show_log(level: int) -> None:
    """The alspec library's messages from `level` up, as plain lines on stdout."""
    library = logging.getLogger("alspec")
    if not any(isinstance(h, _StdoutHandler) for h in library.handlers):
        library.addHandler(_StdoutHandler())
    library.setLevel(level)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="alspec", description=__doc__.splitlines()[0])
    loudness = top.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    loudness.add_argument("-v", "--verbose", action="store_true", help="debug messages too")
    steps = top.add_subparsers(dest="step", required=True, metavar="<step>")
    for name, (run, options, help_text) in COMMANDS.items():
        sub = steps.add_parser(
            name,
            help=help_text,
            description=help_text,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        options(sub)
        sub.set_defaults(run=run)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    show_log(logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)
    from alspec.cluster import SchedulerUnavailable
    from alspec.labels import LabelError
    from alspec.oracles import BatchIncomplete, OracleUnavailable
    from alspec.pool import ReconciliationError
    from alspec.watch import WorkflowFailed

    try:
        args.run(args)
    except KeyboardInterrupt:
        print(f"alspec {args.step}: stopped", file=sys.stderr)
        return 130
    except BatchIncomplete as incomplete:
        print(f"alspec {args.step}: {incomplete}", file=sys.stderr)
        return 3
    except (
        ReconciliationError,
        cfg.ConfigError,
        LabelError,
        OracleUnavailable,
        SchedulerUnavailable,
        WorkflowFailed,
        FileNotFoundError,
        KeyError,
        ValueError,
    ) as error:
        print(f"alspec {args.step}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
