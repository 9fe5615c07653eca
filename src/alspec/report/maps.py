"""The pool's map: every spectrum at its map coordinates, aggregated by datashader.

Datashader bins the points onto a fixed grid of pixels first, so a map of 10^7 spectra
costs about what one of 10^4 does; matplotlib then draws the grids with axes, legends and
colour bars, and the few spectra labelled or asked on top as markers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datashader as ds
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.colors import LogNorm, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from scipy.ndimage import maximum_filter, uniform_filter

from alspec.pool.store import open_store

# The classes' colours: the common class grey, the classes of interest in strong colours.
COMMON_COLOUR = "#9a9a9a"
PALETTE = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")


@dataclass(frozen=True)
class Grid:
    """The pixels the map is aggregated onto: its shape and the data ranges it covers."""

    width: int
    height: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    @classmethod
    def around(cls, x: np.ndarray, y: np.ndarray, pixels: Sequence[int]) -> Grid:
        """A grid just large enough for every point, 2 % margin each side."""
        ranges = []
        for values in (x, y):
            low, high = float(np.min(values)), float(np.max(values))
            pad = 0.02 * (high - low) or 0.5
            ranges.append((low - pad, high + pad))
        return cls(int(pixels[0]), int(pixels[1]), ranges[0], ranges[1])

    @property
    def extent(self) -> tuple[float, float, float, float]:
        return (*self.x_range, *self.y_range)


def class_colours(classes: Sequence[str], classes_of_interest: Sequence[str]) -> dict[str, str]:
    """A fixed colour per class, the same on every figure of the report."""
    interest = [c for c in classes if c in set(classes_of_interest)]
    others = [c for c in classes if c not in set(classes_of_interest)]
    colours = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(interest)}
    return colours | {c: COMMON_COLOUR for c in others}


def aggregate(points: pd.DataFrame, grid: Grid, *, by: str, how: str) -> xr.DataArray:
    """The points (columns x, y and `by`) on the grid's pixels: `how` "count_cat" counts
    each category of `by` (dims y, x, `by`); "mean" and "max" reduce the values of `by`
    (dims y, x; NaN where no point falls)."""
    canvas = ds.Canvas(
        plot_width=grid.width, plot_height=grid.height, x_range=grid.x_range, y_range=grid.y_range
    )
    reduction = {"count_cat": ds.count_cat, "mean": ds.mean, "max": ds.max}[how](by)
    return canvas.points(points, "x", "y", agg=reduction)


def class_image(
    counts: xr.DataArray, colours: Mapping[str, str], common: Sequence[str]
) -> np.ndarray:
    """An RGBA image of per-class counts: the common classes as a grey density underneath
    (log-scaled), each other class in its colour on top, the rarest last, opaque where it
    is densest; a lone spectrum of a class is grown to 3 x 3 pixels, so that it stays
    visible, while crowded ones keep their pixel and the density below them shows."""
    category = counts.dims[-1]
    names = [str(c) for c in counts[category].values]
    values = counts.values.astype(float)
    image = np.zeros((*values.shape[:2], 4))
    base = values[..., [names.index(c) for c in names if c in set(common)]].sum(axis=-1)
    if base.max() > 0:
        grey = 0.78 * (1 - np.log1p(base) / np.log1p(base.max()))  # densest near black
        image[base > 0] = np.stack([grey, grey, grey, np.ones_like(grey)], axis=-1)[base > 0]
    rare = [c for c in names if c not in set(common)]
    for name in sorted(rare, key=lambda c: -values[..., names.index(c)].sum()):
        layer = values[..., names.index(name)]
        if layer.max() == 0:
            continue
        strength = 0.55 + 0.45 * np.log1p(layer) / np.log1p(layer.max())
        shown = _grown_where_lonely(layer > 0, strength)
        alpha = shown[..., None]
        colour = np.array([*to_rgb(colours[name]), 1.0])
        image = np.where(alpha > 0, alpha * colour + (1 - alpha) * image, image)
    return (image * 255).round().astype(np.uint8)


def _grown_where_lonely(present: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """`strength` where a pixel is `present`, and around each pixel with no neighbour."""
    neighbours = np.rint(uniform_filter(present.astype(float), size=3, mode="constant") * 9)
    lonely = present & (neighbours == 1)
    grown = maximum_filter(np.where(lonely, strength, 0.0), size=3)
    return np.where(present, strength, grown)


def read_coordinates(store: Path | None) -> pd.DataFrame | str:
    """Every spectrum's map coordinates (`id`, `x`, `y`) from the features store, or why
    there are none (no store, or a map turned off): the report then goes without."""
    if store is None:
        return "no map: no features store (anomaly.features: raw makes none)"
    if not Path(store).exists():
        return f"no map: {store} does not exist"
    data = open_store(store)
    if "map_coordinates" not in data:
        return f"no map: {store} has no map coordinates (features.map.method: none)"
    xy = data["map_coordinates"].values
    method = data.attrs.get("map_method", "map")
    ids = [str(i) for i in data["id"].values]
    return pd.DataFrame({"id": ids, "x": xy[:, 0], "y": xy[:, 1]}).assign(method=method)


def class_panel(
    points: pd.DataFrame, grid: Grid, classes: Sequence[str], classes_of_interest: Sequence[str]
) -> tuple[dict[str, Any], dict[str, int]]:
    """The map coloured by predicted class, and the spectra per class it shows."""
    colours = class_colours(classes, classes_of_interest)
    category = points.assign(
        predicted=pd.Categorical(points["predicted"], categories=list(classes))
    )
    counts = aggregate(category, grid, by="predicted", how="count_cat")
    common = [c for c in classes if c not in set(classes_of_interest)]
    shown = {str(c): int(counts.sel(predicted=c).sum()) for c in counts["predicted"].values}
    legend = {f"{c} ({shown[c]})": colours[c] for c in classes}
    image = class_image(counts, colours, common)
    return {"title": "Predicted class", "image": image, "legend": legend}, shown


def value_panel(
    points: pd.DataFrame,
    grid: Grid,
    column: str,
    title: str,
    *,
    how: str = "mean",
    log: bool = False,
) -> dict[str, Any]:
    """The map coloured by the `how` ("mean" or "max") of `column` in each pixel (log
    scale if `log`)."""
    values = aggregate(points, grid, by=column, how=how).values
    positive = values[np.isfinite(values) & (values > 0)]
    norm = LogNorm(positive.min(), positive.max()) if log and positive.size else None
    label = f"{column} ({how} per pixel)"
    return {"title": title, "values": values, "colour_label": label, "norm": norm}


def marker_layers(points: pd.DataFrame, labelled: set[str], batch: set[str]) -> dict[str, tuple]:
    """The spectra labelled so far and this iteration's batch, drawn over the map."""

    def at(ids: set[str]) -> tuple[np.ndarray, np.ndarray]:
        rows = points.loc[points["id"].isin(ids)]
        return rows["x"].to_numpy(), rows["y"].to_numpy()

    return {
        "labelled so far": (
            *at(labelled),
            {"marker": "o", "ms": 2.5, "mfc": "none", "mec": "black", "mew": 0.4, "alpha": 0.6},
        ),
        "this batch": (*at(batch), {"marker": "x", "ms": 4, "color": "#d400d4", "mew": 0.9}),
    }


def map_figure(panels: Sequence[Mapping[str, Any]], grid: Grid, *, axis_name: str) -> Figure:
    """The map's panels side by side: each an RGBA image ("image") with legend entries
    ("legend": name -> colour), or a grid of values ("values") with a colour bar
    ("colour_label"); the labelled spectra and the batch ("markers": name -> (x, y,
    style)) on top, or a line saying why there is no panel ("note")."""
    figure = Figure(figsize=(5.2 * len(panels), 4.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(panels), sharex=True, sharey=True))
    for ax, panel in zip(axes, panels, strict=True):
        ax.set(title=panel["title"], xlabel=f"{axis_name} 1", ylabel=f"{axis_name} 2")
        if "note" in panel:
            ax.text(
                0.5, 0.5, panel["note"], ha="center", va="center", transform=ax.transAxes, wrap=True
            )
            continue
        if "image" in panel:
            ax.imshow(panel["image"], origin="lower", extent=grid.extent, aspect="auto")
        else:
            shown = ax.imshow(
                panel["values"], origin="lower", extent=grid.extent, aspect="auto",
                cmap=panel.get("cmap", "viridis"), norm=panel.get("norm"),
            )  # fmt: skip
            figure.colorbar(shown, ax=ax, label=panel["colour_label"], shrink=0.85)
        handles = [Patch(color=c, label=n) for n, c in panel.get("legend", {}).items()]
        for name, (x, y, style) in panel.get("markers", {}).items():
            (line,) = ax.plot(x, y, linestyle="none", label=f"{name} ({len(x)})", **style)
            handles.append(line)
        if handles:
            ax.legend(handles=handles, fontsize="x-small", loc="upper right", framealpha=0.8)
    return figure
