"""What the explorer draws: the pool's map rasterised on the server (Datashader through
HoloViews, so 10^7 points pan and zoom), its legend, and one spectrum with its lines.

Colour by a class column draws the rarest class over the rest: each pixel takes the
rarest class among its spectra, not a blend in which a few emitters among thousands of
ordinary stars would vanish.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

import colorcet
import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
from holoviews.operation.datashader import dynspread, rasterize

from alspec.explorer.tables import ANSWER

hv.extension("bokeh", logo=False)

CODE = "_colour_code"  # the rank of a row's class, rarest highest: what a pixel's max picks
NO_VALUE = "#cfcfcf"  # a row without a value of the colour column (e.g. not answered)
MAP_TOOLS = ["tap", "box_select", "lasso_select", "box_zoom", "wheel_zoom", "pan", "reset"]
# The Balmer series in vacuum (Å), marked on every spectrum besides the configured lines.
BALMER = {"Hα": 6564.61, "Hβ": 4862.68, "Hγ": 4341.68, "Hδ": 4102.89, "Hε": 3971.20, "H8": 3890.17}


@dataclass(frozen=True)
class Colouring:
    """How the map is coloured by `column`: categories (rarest drawn on top, with their
    colours and counts) or a number (a colour scale)."""

    column: str
    categories: tuple[str, ...] = ()  # commonest first; code 0 is "no value"
    counts: tuple[int, ...] = ()
    missing: int = 0

    @property
    def categorical(self) -> bool:
        return bool(self.categories)

    @property
    def colours(self) -> list[str]:
        palette = colorcet.palette["glasbey_category10"]
        return [NO_VALUE, *(palette[i % len(palette)] for i in range(len(self.categories)))]


def colouring(table: pd.DataFrame, column: str) -> tuple[Colouring, np.ndarray | None]:
    """The colouring by `column`, and for a class column each row's code (0 no value,
    then the categories commonest first, so the rarest has the highest)."""
    values = table[column]
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return Colouring(column), None
    counts = values.value_counts(sort=True, ascending=False)
    counts = counts[counts > 0]
    rank = pd.Series(np.arange(1, len(counts) + 1), index=counts.index)
    codes = values.map(rank).astype("float32").fillna(0).to_numpy(np.float32)
    found = Colouring(
        column, tuple(map(str, counts.index)), tuple(counts), int(values.isna().sum())
    )
    return found, codes


def warm_up() -> None:
    """Draw a map of three spectra far apart, as the pool's map is drawn (class codes'
    maximum over float32 coordinates, spread where sparse): Numba compiles Datashader's
    aggregation and spreading (4 s here) now, beside the loading of the table, not when
    the first map or the first zoom is drawn."""
    three = np.arange(3, dtype=np.float32)
    table = pd.DataFrame(
        {"x": three * 100, "y": three * 100, "kind": pd.Categorical(["a", "b", "a"])}
    )
    colour, codes = colouring(table, "kind")
    hv.render(pool_map(table, "x", "y", colour, codes))


def pool_map(
    table: pd.DataFrame, x: str, y: str, colour: Colouring, codes: np.ndarray | None
) -> hv.DynamicMap:
    """Every row at (x, y), rasterised on the server at each zoom, coloured as `colour`."""
    if colour.categorical:
        points = hv.Points(pd.DataFrame({x: table[x], y: table[y], CODE: codes}), [x, y], CODE)
        raster = rasterize(points, aggregator=ds.max(CODE))
        levels = len(colour.colours)
        options = {"cmap": colour.colours, "clim": (-0.5, levels - 0.5), "color_levels": levels}
    else:
        points = hv.Points(table[[x, y, colour.column]], [x, y], colour.column)
        raster = rasterize(points, aggregator=ds.mean(colour.column))
        options = {"cmap": colorcet.bmy, "cnorm": "eq_hist", "colorbar": True}
    return dynspread(raster, threshold=0.6, max_px=3).opts(
        tools=MAP_TOOLS, active_tools=["box_zoom"], responsive=True, min_height=520, **options
    )


def overlay_points(table: pd.DataFrame, rows: np.ndarray, x: str, y: str, style: dict) -> hv.Points:
    """Some rows (the labelled, the batch, the selection) drawn as markers on the map."""
    shown = table.iloc[rows]
    return hv.Points(shown[[x, y, "id"]], [x, y], "id").opts(**style)


def legend(colour: Colouring, total: int) -> str:
    """The map's key as HTML: each class's colour and how many spectra it has."""
    if not colour.categorical:
        return f"<b>{escape(colour.column)}</b>: the mean over the spectra in each pixel"
    items = [
        f'<span style="color:{c}">■</span> {escape(name)} {n:,}'
        for c, name, n in zip(colour.colours[1:], colour.categories, colour.counts, strict=True)
    ]
    if colour.missing:
        none = "not answered" if colour.column == ANSWER else "none"
        items.append(f'<span style="color:{NO_VALUE}">■</span> {none} {colour.missing:,}')
    return f"<b>{escape(colour.column)}</b> of {total:,} spectra (rarest on top): " + " · ".join(
        items
    )


def smoothed(flux: np.ndarray, pixels: int) -> np.ndarray:
    """A boxcar mean over `pixels` (1: as it is), ignoring masked (NaN) pixels."""
    if pixels <= 1:
        return flux
    finite = np.isfinite(flux)
    kernel = np.ones(pixels)
    total = np.convolve(np.where(finite, flux, 0.0), kernel, mode="same")
    count = np.convolve(finite.astype(float), kernel, mode="same")
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def line_markers(lines: Mapping[str, float], low: float, high: float, y: float) -> hv.Overlay:
    """A dashed vertical line at each line inside [low, high], its name at height `y`."""
    shown = {name: at for name, at in lines.items() if low <= at <= high}
    marks = [
        hv.VLine(at).opts(color="#888", line_dash="dashed", line_width=1) for at in shown.values()
    ]
    names = [
        hv.Text(at, y, f" {name}", halign="left", valign="bottom", fontsize=8)
        for name, at in shown.items()
    ]
    return hv.Overlay(marks + names)


def spectrum_chart(
    wavelength: np.ndarray,
    flux: np.ndarray,
    title: str,
    lines: Mapping[str, float],
    smoothing: int = 1,
    flux_label: str = "flux",
) -> hv.Overlay:
    """One spectrum (or its window) with its lines marked, smoothed over `smoothing`
    pixels; its own axes, not linked to another chart's."""
    shown = smoothed(np.asarray(flux, dtype=float), smoothing)
    low, high = float(wavelength.min()), float(wavelength.max())
    curve = hv.Curve((wavelength, shown), "wavelength (Å, vacuum)", flux_label).opts(
        title=title, responsive=True, height=220, color="#1f3b73", line_width=1,
        tools=["hover"], shared_axes=False, xlim=(low, high),
    )  # fmt: skip
    finite = shown[np.isfinite(shown)]
    bottom = float(finite.min()) if finite.size else 0.0
    return curve * line_markers(lines, low, high, bottom)


def marked_lines(configured: Sequence[Mapping[str, object]]) -> dict[str, float]:
    """The lines to mark: the Balmer series and the configured ones (features.lines),
    a configured line within 1 Å of a Balmer line marked once, by its Balmer name."""
    extra = {
        str(line["name"]): float(line["centre"])
        for line in configured
        if all(abs(float(line["centre"]) - at) > 1 for at in BALMER.values())
    }
    return BALMER | extra
