"""The survey and the pool: config, simulate, shard, ingest, gather, window, features."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from alspec import config as cfg
from alspec.cli.common import (
    assignment,
    command,
    counts,
    dask_options,
    enum_choices,
    grid_option,
    parse_grid,
    window_shape_options,
)
from alspec.io import write_text


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


def _simulate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", type=Path, required=True, help="writes OUT/spectra/ and OUT/truth.parquet"
    )
    p.add_argument(
        "--instrument",
        choices=[*enum_choices("simulate.instrument"), "ondrejov"],
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
        type=assignment,
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


def _ingest_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("shard_list", type=Path, help="the shard's list of files (alspec shard)")
    p.add_argument("--out", type=Path, required=True, help="the shard's folder to write")
    grid_option(p)
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
            files, args.out, parse_grid(args.grid), args.metadata, args.block_size, total
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


def _window_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pool", type=Path, required=True, help="the pool folder (catalog, shards)")
    p.add_argument("--out", type=Path, required=True)
    window_shape_options(p)
    p.add_argument("--block-size", type=int, default=cfg.default("pool", "block_size"))
    dask_options(p)


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
    p.add_argument(
        "--map", choices=enum_choices("features.map.method"), default=embedding["method"]
    )
    p.add_argument("--map-sample", type=int, default=embedding["sample"])
    p.add_argument("--tsne-max", type=int, default=embedding["tsne_max"])
    p.add_argument("--map-seed", type=int, default=embedding["seed"])
    p.add_argument("--block-size", type=int, default=cfg.default("pool", "block_size"))
    dask_options(p)


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
