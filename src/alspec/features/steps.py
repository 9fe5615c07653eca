"""The features stage's steps, one per command: `window` cuts every spectrum's window,
`features` measures PCA scores, lines and the map, `neighbours` finds each spectrum's
nearest in those features, `transfer` makes another instrument's labelled set into
windows like the pool's (workflow/rules/features.smk)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from alspec.config.checks import check_lines
from alspec.evaluation.provenance import seal
from alspec.features.blocks import write
from alspec.features.embedding import embed, map_method
from alspec.features.lines import Line, line_measurements
from alspec.features.neighbours import neighbours_dataset
from alspec.features.pca import fit_pca, pca_dataset, spectra_matrix
from alspec.features.transfer import relabel, transfer_windows
from alspec.features.window import window as pool_window
from alspec.io import as_strings, atomic_output, read_table, write_table
from alspec.oracles.labels import check
from alspec.pool.ingest import discover_files
from alspec.pool.preprocess import pool_grid, window_grid
from alspec.pool.store import open_pool, open_store
from alspec.runtime.dask_client import configured

logger = logging.getLogger(__name__)


def window(
    *, pool: str | Path, out: Path, settings: Mapping[str, Any], threads: int = 0
) -> dict[str, Any]:
    """The window step: every spectrum's window (config `window`) into the Zarr store
    `out`, in blocks of pool.block_size, computed where config `dask` says."""
    shape, block_size = settings["window"], settings["pool"]["block_size"]
    grid = window_grid(shape["start"], shape["stop"], shape["points"])
    with configured(settings, threads), atomic_output(out) as tmp:
        windows = pool_window(
            open_pool(pool),
            grid,
            shape["normalisation"],
            shape["min_coverage"],
            shape["continuum_segment"],
        )
        encoding = {"flux": {"chunks": (block_size, grid.size)}}
        write(windows.chunk({"spectrum": block_size}), tmp, "window", **encoding)
        seal(tmp, name=out.name)
    return {"spectra": windows.sizes["spectrum"], "normalisation": shape["normalisation"]}


def features(
    *, pool: str | Path, out: Path, settings: Mapping[str, Any], threads: int = 0
) -> dict[str, Any]:
    """The features step: PCA scores, line measurements and a 2-D map of every spectrum
    (config `features`) into the Zarr store `out`, computed where config `dask` says."""
    chosen, block_size = settings["features"], settings["pool"]["block_size"]
    pca_settings, map_settings = chosen["pca"], chosen["map"]
    check_lines(chosen["lines"])
    lines = [Line.from_config(entry) for entry in chosen["lines"]]
    with configured(settings, threads), atomic_output(out) as tmp:
        data = open_pool(pool)
        matrix = spectra_matrix(data, chosen["continuum_segment"], pca_settings["bin"])
        pca = fit_pca(
            matrix, pca_settings["components"], pca_settings["sample"], pca_settings["seed"]
        )
        table = xr.merge(
            [pca_dataset(data, matrix, pca, pca_settings["bin"]), line_measurements(data, lines)],
            compat="override",
        )
        write(table.chunk({"spectrum": block_size}), tmp, "PCA scores and lines")
        method = map_method(
            map_settings["method"], data.sizes["spectrum"], map_settings["tsne_max"]
        )
        if method != "none":
            scores = open_store(tmp).pca.chunk({"spectrum": block_size}).data
            coordinates = embed(scores, method, map_settings["sample"], map_settings["seed"])
            embedding = xr.Dataset(
                {"map_coordinates": (("spectrum", "map_axis"), coordinates)},
                coords={"map_axis": as_strings(["x", "y"])},
                attrs={"map_method": method},
            )
            write(embedding, tmp, f"{method} map", mode="a")
        seal(tmp, name=out.name)
    return {
        "spectra": data.sizes["spectrum"],
        "components": pca.n_components_,
        "explained": float(pca.explained_variance_ratio_.sum()),
        "lines": [line.name for line in lines],
        "map": method,
    }


def neighbours(
    *, features: str | Path, out: Path, settings: Mapping[str, Any], threads: int = 0
) -> dict[str, Any]:
    """The neighbours step: each spectrum's explore.neighbours nearest spectra in the
    `features` store's space (NN-descent seeded by explore.seed), into the Zarr store
    `out`, one row per spectrum in the features' order."""
    chosen = settings["explore"]
    data = open_store(features)
    logger.info(f"neighbours: {data.sizes['spectrum']} spectra, {chosen['neighbours']} each")
    graph = neighbours_dataset(
        data, k=chosen["neighbours"], seed=chosen["seed"], threads=threads or None
    )
    with atomic_output(out) as tmp:
        graph.to_zarr(tmp, consolidated=False)
        seal(tmp, name=out.name)
    return {"spectra": graph.sizes["spectrum"], "neighbours": graph.sizes["neighbour"]}


def transfer(
    *,
    files: Sequence[str | Path],
    labels: str | Path,
    out: Path,
    labels_out: Path,
    settings: Mapping[str, Any],
) -> pd.DataFrame:
    """The transfer step: another instrument's labelled spectra (`files`, `labels`: id,
    label) made to look like the pool (config initial.external: its resolving power and
    label map; to pool.resolving_power, on pool.grid, cut as config `window`), written as
    a window store `out` and its labels in the pool's classes. Returns those labels."""
    external, shape = settings["initial"]["external"], settings["window"]
    table = relabel(read_table(labels, required=("id", "label")), external["label_map"])
    check(table, settings["classes"], f"{labels} (after initial.external.label_map)")
    store, kept, skipped = transfer_windows(
        discover_files(files),
        table,
        external["resolving_power"],
        settings["pool"]["resolving_power"],
        pool_grid(settings["pool"]["grid"]),
        window_grid(shape["start"], shape["stop"], shape["points"]),
        shape["normalisation"],
        shape["min_coverage"],
        shape["continuum_segment"],
    )
    for line in skipped:
        logger.info(f"transfer: left out {line}")
    with atomic_output(out) as tmp:
        store.to_zarr(tmp, consolidated=False)
    write_table(kept, labels_out)
    return kept
