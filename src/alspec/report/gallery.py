"""The candidate gallery: the spectra behind the list, as an astronomer would check them.

Each cell shows the Hα window the model read and a thumbnail of the whole spectrum,
titled with the id, the prediction and the oracle's answer. Only the shown spectra are
read (their Zarr chunks), so the gallery costs the same whatever the pool's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from alspec.layout import CATALOG
from alspec.pool.store import open_pool, open_store, select
from alspec.vocabulary import ESTIMATE_SAMPLE, PREDICTED

TOP, SAMPLED = "top", "estimate sample"
COLUMNS = 4
THUMBNAIL_BIN = 8  # whole-spectrum pixels averaged into one of the thumbnail


def candidate_rows(
    candidates: pd.DataFrame, batch: pd.DataFrame, answers: pd.DataFrame, top: int
) -> pd.DataFrame:
    """Classification mode: the `top` candidates by probability among those predicted,
    then every candidate the batch's estimate sample drew (FR12), each with the oracle's
    answer where there is one: `id`, `group`, `predicted`, `probability`, `answer`."""
    best = candidates.loc[candidates["source"] == PREDICTED]
    best = best.sort_values(["probability", "id"], ascending=[False, True]).head(top)
    best = best.rename(columns={"label": "predicted"}).assign(group=TOP)
    drawn = (batch["reason"] == ESTIMATE_SAMPLE) & batch["id"].isin(set(candidates["id"]))
    sample = batch.loc[drawn].assign(group=SAMPLED)
    rows = pd.concat([best, sample], ignore_index=True)
    return _with_answers(rows[["id", "group", "predicted", "probability"]], answers)


def ranking_rows(ranked: pd.DataFrame, answers: pd.DataFrame, top: int) -> pd.DataFrame:
    """Anomaly mode: the top of the ranking with its trained score, the relevance the
    model predicts and the expert's answer: `id`, `group`, `predicted`, `probability`
    (the trained score), `answer`."""
    best = ranked.nlargest(top, "trained_score")
    relevance = best["relevance"].round().astype("Int64").astype("string")
    rows = pd.DataFrame(
        {
            "id": best["id"].to_numpy(),
            "group": TOP,
            "predicted": relevance.fillna("").to_numpy(),
            "probability": best["trained_score"].to_numpy(),
        }
    )
    return _with_answers(rows, answers)


def _with_answers(rows: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    answer = answers.drop_duplicates("id", keep="last").set_index("id")["label"]
    return rows.assign(answer=rows["id"].map(answer).astype("string").fillna("")).reset_index(
        drop=True
    )


def read_spectra(pool: str | Path, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The whole spectra of `ids` from the pool (wavelength, flux), binned for a
    thumbnail; only the chunks that hold them are read."""
    ids = list(dict.fromkeys(ids))  # a candidate may be both in the top and the sample
    if not ids:
        return {}
    catalog = pd.read_parquet(Path(pool) / CATALOG, columns=["id"])
    position = pd.Series(np.arange(len(catalog)), index=catalog["id"].astype(str))
    rows = position.reindex(list(ids)).dropna().astype(int)
    data = open_pool(pool).isel(spectrum=np.sort(rows.to_numpy())).load()
    order = pd.Series(np.arange(data.sizes["spectrum"]), index=[str(i) for i in data.id.values])
    wavelength = _binned(data["wavelength"].values)
    return {
        i: (wavelength, _binned(data["flux"].values[order[i]])) for i in ids if i in order.index
    }


def _binned(values: np.ndarray) -> np.ndarray:
    usable = values.size // THUMBNAIL_BIN * THUMBNAIL_BIN
    with np.errstate(invalid="ignore"):
        return np.nanmean(values[:usable].reshape(-1, THUMBNAIL_BIN), axis=1)


def read_windows(
    window: str | Path, ids: Sequence[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The model's input, the normalised window, of `ids` (wavelength, flux)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    known = set(str(i) for i in open_store(window).id.values)
    wanted = [i for i in ids if i in known]
    if not wanted:
        return {}
    data = select([window], wanted)
    return {
        i: (data["window_wavelength"].values, data["flux"].values[k]) for k, i in enumerate(wanted)
    }


def gallery_figure(
    rows: pd.DataFrame,
    windows: dict[str, tuple[np.ndarray, np.ndarray]],
    spectra: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    score_name: str,
) -> Figure:
    """Small multiples, COLUMNS a row: per spectrum its window above its whole spectrum,
    titled id, group, prediction, score and answer. A fixed grid, not a constrained
    layout: that would cost seconds a cell."""
    lines = max(-(-len(rows) // COLUMNS), 1)
    figure = Figure(figsize=(3.6 * COLUMNS, 3.3 * lines))
    grid = figure.add_gridspec(
        lines, COLUMNS, hspace=0.5, wspace=0.28, left=0.05, right=0.98,
        top=1 - 0.5 / (3.3 * lines), bottom=0.4 / (3.3 * lines),
    )  # fmt: skip
    if rows.empty:
        figure.text(
            0.5,
            0.5,
            "no candidate awaits a check (the oracle's confirmed ones are not shown)",
            ha="center",
            va="center",
        )
    for k, row in enumerate(rows.itertuples(index=False)):
        cell = grid[divmod(k, COLUMNS)].subgridspec(2, 1, height_ratios=[3, 2], hspace=0.32)
        window, whole = figure.add_subplot(cell[0]), figure.add_subplot(cell[1])
        answer = row.answer or "not asked"
        window.set_title(
            f"{row.id} ({row.group})\npredicted {row.predicted or '-'}"
            f" ({score_name} {row.probability:.2f})\nanswer: {answer}",
            fontsize=7.5,
        )
        _panel(window, windows.get(row.id), "window (model input)")
        _panel(whole, spectra.get(row.id), "whole spectrum")
        window.axvline(6564.61, color="C3", lw=0.6, alpha=0.6)
        whole.set_xlabel("wavelength [Å]", fontsize=7)
        for ax in (window, whole):
            ax.tick_params(labelsize=6)
    return figure


def _panel(ax, curve: tuple[np.ndarray, np.ndarray] | None, name: str) -> None:
    if curve is None:
        ax.text(
            0.5, 0.5, f"no {name}", ha="center", va="center", transform=ax.transAxes, fontsize=7
        )
        return
    ax.plot(*curve, lw=0.7, color="black")
    ax.set_ylabel(name.split(" ")[0], fontsize=7)
