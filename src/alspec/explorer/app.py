"""The explorer's page: the map, the selection as a table, the spectrum, "more like
this" and "ask", wired with Panel. One `Explorer` per browser session; the pool's table,
loaded once, is shared by all of them and never changed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from html import escape
from typing import ClassVar

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param

from alspec import layout
from alspec.errors import UserError
from alspec.explorer import charts, export, selection, spectra
from alspec.explorer.requests import add_requests, request_file
from alspec.explorer.tables import ANOMALY_SCORE, ANSWER, IN_BATCH, MAP_X, MAP_Y, Iteration
from alspec.oracles.labelstudio_page import sky_panel
from alspec.vocabulary import probability_columns

logger = logging.getLogger(__name__)

SHOWN_ON_MAP = 5_000  # selected spectra drawn as markers; the table holds them all
TOP_RANKED_SHOWN = 100  # anomaly mode's first selection: the top of the ranking
OVERLAYS = {"labelled": "#000000", "batch": "#e8590c", "selection": "#d6336c"}


class KeyStepper(pn.reactive.ReactiveHTML):
    """Keys to step through the selection: → or j the next spectrum, ← or k the one
    before (not while typing in a field)."""

    step = param.Integer(default=0)

    _template = '<div id="keys" style="display:none"></div>'
    _scripts: ClassVar[dict[str, str]] = {
        "render": """
        document.addEventListener('keydown', (event) => {
          if (['INPUT', 'TEXTAREA'].includes(event.target.tagName)) return;
          const move = {ArrowRight: 1, j: 1, ArrowLeft: -1, k: -1}[event.key];
          if (move) { data.step = move * (Math.abs(data.step) + 1); }
        });"""
    }


def default_axes(table: pd.DataFrame, numeric: list[str]) -> tuple[str, str]:
    """The map's coordinates; without a map, the sky; without positions (seed 004's
    curves), the first two columns with numbers in them."""
    filled = [c for c in numeric if table[c].notna().any()]
    for pair in ((MAP_X, MAP_Y), ("ra", "dec")):
        if set(pair) <= set(filled):
            return pair
    return filled[0], filled[1 % len(filled)]


def table_columns(iteration: Iteration) -> list[str]:
    """The selection table's columns: what the model said, the scores, the answer,
    the catalogue's metadata."""
    config, present = iteration.config, set(iteration.table.columns)
    scores = [config["query"]["strategy"], ANOMALY_SCORE, "score", "trained_score", "relevance"]
    chosen = [
        "id", "rank", "predicted", "probability", *scores, ANSWER, IN_BATCH, "ra", "dec",
        *config["catalogue"]["metadata"],
    ]  # fmt: skip
    return [c for c in dict.fromkeys(chosen) if c in present]


class Explorer:
    """One session's explorer over `iteration`, with `neighbours` (None: no index)."""

    def __init__(self, iteration: Iteration, neighbours: selection.Neighbours | None):
        self.iteration, self.neighbours = iteration, neighbours
        self.data = iteration.table
        self.rows = np.empty(0, dtype=np.int64)  # the selection
        self.shown: int | None = None  # the row whose spectrum is shown
        self.columns = table_columns(iteration)
        self.lines = charts.marked_lines(iteration.config["features"]["lines"])
        self._widgets()
        self._wire()
        self.redraw_map()
        self.select(self.first_selection(), "the current batch")

    # ---- the parts of the page ------------------------------------------------
    def _widgets(self) -> None:
        numeric, categorical = self.iteration.numeric, self.iteration.categorical
        x, y = default_axes(self.data, numeric)
        self.x = pn.widgets.Select(label="x", options=numeric, value=x)
        self.y = pn.widgets.Select(label="y", options=numeric, value=y)
        default = "trained_score" if self.iteration.anomaly_mode else "predicted"
        self.colour = pn.widgets.Select(
            label="colour by", options=categorical + numeric, value=default
        )
        self.overlays = pn.widgets.CheckButtonGroup(
            label="overlays", options=list(OVERLAYS), value=list(OVERLAYS)
        )
        self.map_pane = pn.pane.HoloViews(
            sizing_mode="stretch_both", min_height=520, linked_axes=False
        )
        self.legend = pn.pane.HTML(sizing_mode="stretch_width")
        self.message = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["alspec-message"])
        self.condition = pn.widgets.TextInput(
            label="filter (SQL over the pool's columns)",
            placeholder="predicted = 'double_peak' AND snrr > 20",
        )
        self.apply_filter = pn.widgets.Button(label="filter", button_type="primary")
        self.id_list = pn.widgets.TextAreaInput(label="ids, one a line", height=60)
        self.select_ids = pn.widgets.Button(label="select these ids")
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(columns=self.columns), pagination="remote", page_size=12,
            selectable=1, disabled=True, show_index=False, sizing_mode="stretch_width",
        )  # fmt: skip
        self.csv = pn.widgets.FileDownload(
            callback=lambda: export.csv_bytes(self.selected()), filename="selection.csv",
            label="CSV",
        )  # fmt: skip
        self.vot = pn.widgets.FileDownload(
            callback=lambda: export.votable_bytes(self.selected()), filename="selection.vot",
            label="VOTable",
        )  # fmt: skip
        self.samp = pn.widgets.Button(label="to TOPCAT (SAMP)")
        self.note = pn.widgets.TextInput(label="note for the labeller", placeholder="why these")
        self.ask = pn.widgets.Button(label="ask", button_type="warning")
        self.previous = pn.widgets.Button(label="◀ previous")
        self.next = pn.widgets.Button(label="next ▶")
        self.more_like = pn.widgets.Button(label="more like this", button_type="primary")
        self.smoothing = pn.widgets.IntSlider(label="smoothing (pixels)", start=1, end=15, value=1)
        self.cutout = pn.widgets.Checkbox(label="sky cutout (loads from CDS)", value=False)
        # each chart keeps its own axes (Panel links panes with the same dimensions)
        self.window_chart = pn.pane.HoloViews(
            sizing_mode="stretch_width", height=240, linked_axes=False
        )
        self.whole_chart = pn.pane.HoloViews(
            sizing_mode="stretch_width", height=240, linked_axes=False
        )
        self.details = pn.pane.HTML(sizing_mode="stretch_width", css_classes=["alspec-details"])
        self.keys = KeyStepper()

    def _wire(self) -> None:
        for widget in (self.x, self.y, self.colour, self.overlays):
            widget.param.watch(lambda _: self.redraw_map(), "value")
        self.apply_filter.on_click(lambda _: self.guarded(self.filter))
        self.condition.param.watch(lambda _: self.guarded(self.filter), "enter_pressed")
        self.select_ids.on_click(lambda _: self.guarded(self.pick_ids))
        self.table.param.watch(self.on_table_pick, "selection")
        self.samp.on_click(lambda _: self.guarded(self.send_samp))
        self.ask.on_click(lambda _: self.guarded(self.request))
        self.previous.on_click(lambda _: self.step(-1))
        self.next.on_click(lambda _: self.step(1))
        self.keys.param.watch(lambda event: self.step(int(np.sign(event.new))), "step")
        self.more_like.on_click(lambda _: self.guarded(self.more_like_this))
        for widget in (self.smoothing, self.cutout):
            widget.param.watch(lambda _: self.show(self.shown), "value")

    def guarded(self, action) -> None:
        """Run a user's action; a mistake they can mend is one line on the page."""
        try:
            action()
        except UserError as error:
            self.say(str(error), error=True)

    def say(self, text: str, error: bool = False) -> None:
        colour = "#c92a2a" if error else "#2b8a3e"
        self.message.object = f'<span style="color:{colour}">{escape(text)}</span>'

    # ---- the map -------------------------------------------------------------
    def redraw_map(self) -> None:
        """The map for the chosen axes and colouring, and the streams that read gestures
        on it (a click, a box, a lasso, the view's range)."""
        x, y = self.x.value, self.y.value
        colour, codes = charts.colouring(self.data, self.colour.value)
        base = charts.pool_map(self.data, x, y, colour, codes)
        self.view = hv.streams.RangeXY(source=base)
        hv.streams.Tap(source=base).add_subscriber(self.on_click)
        hv.streams.BoundsXY(source=base).add_subscriber(self.on_box)
        hv.streams.Lasso(source=base).add_subscriber(self.on_lasso)
        self.marked = hv.streams.Pipe(data=self.marker_rows())
        marks = hv.DynamicMap(lambda data: self.marker_layer(data, x, y), streams=[self.marked])
        self.map_pane.object = (base * marks).opts(
            hv.opts.Overlay(legend_position="top_left", responsive=True)
        )
        self.legend.object = charts.legend(colour, len(self.data))
        if self.iteration.map_missing and MAP_X not in (x, y):
            why = f"{self.iteration.map_missing}; showing {x} against {y}"
            self.legend.object = (
                f'<div style="color:#c92a2a">{escape(why)}</div>' + self.legend.object
            )

    def marker_rows(self) -> dict[str, np.ndarray]:
        chosen, data = self.overlays.value, self.data
        rows = {
            "labelled": np.flatnonzero(data[ANSWER].notna().to_numpy()),
            "batch": np.flatnonzero(data[IN_BATCH].to_numpy()),
            "selection": self.rows[:SHOWN_ON_MAP],
        }
        return {name: rows[name] for name in OVERLAYS if name in chosen}

    def marker_layer(self, rows: dict[str, np.ndarray], x: str, y: str) -> hv.Overlay:
        layers = [
            charts.overlay_points(self.data, rows.get(name, []), x, y, {
                "color": OVERLAYS[name], "size": 6 if name == "selection" else 4,
                "marker": "circle" if name != "batch" else "square", "fill_alpha": 0.0,
                "line_width": 1, "tools": ["hover"],
            }).relabel(name)
            for name in OVERLAYS
        ]  # fmt: skip
        if self.shown is not None:
            shown = charts.overlay_points(self.data, np.array([self.shown]), x, y, {
                "color": "#000", "size": 14, "marker": "x", "line_width": 2,
            }).relabel("shown")  # fmt: skip
            layers.append(shown)
        return hv.Overlay(layers)

    def on_click(self, x: float | None, y: float | None) -> None:
        if x is None or y is None:
            return
        scale = self.view_scale()
        row = selection.nearest(
            self.data[self.x.value].to_numpy(), self.data[self.y.value].to_numpy(), (x, y), scale
        )
        if row is not None:
            self.select(np.array([row]), "the spectrum nearest the click")

    def view_scale(self) -> tuple[float, float]:
        """The view's width and height, so that "nearest" means nearest on the screen."""
        spans = []
        for axis, ranged in ((self.x.value, self.view.x_range), (self.y.value, self.view.y_range)):
            if ranged is None:
                values = self.data[axis].to_numpy()
                ranged = (np.nanmin(values), np.nanmax(values))
            spans.append(float(ranged[1] - ranged[0]) or 1.0)
        return spans[0], spans[1]

    def on_box(self, bounds: tuple[float, float, float, float] | None) -> None:
        if bounds is None:
            return
        left, bottom, right, top = bounds
        x, y = self.data[self.x.value].to_numpy(), self.data[self.y.value].to_numpy()
        self.select(selection.inside_box(x, y, (left, right), (bottom, top)), "the box")

    def on_lasso(self, geometry: np.ndarray | None) -> None:
        if geometry is None or len(geometry) < 3:
            return
        x, y = self.data[self.x.value].to_numpy(), self.data[self.y.value].to_numpy()
        self.select(selection.inside_polygon(x, y, np.asarray(geometry)), "the lasso")

    # ---- the selection ---------------------------------------------------------
    def first_selection(self) -> np.ndarray:
        """Anomaly mode: the top of the ranking; otherwise the batch being labelled."""
        if self.iteration.anomaly_mode and "trained_score" in self.data:
            return self.data["trained_score"].nlargest(TOP_RANKED_SHOWN).index.to_numpy()
        return np.flatnonzero(self.data[IN_BATCH].to_numpy())

    def select(self, rows: np.ndarray, what: str) -> None:
        """Make `rows` the selection: the table, the markers, the first spectrum."""
        self.rows = np.asarray(rows, dtype=np.int64)
        self.table.value = self.selected()
        self.marked.event(data=self.marker_rows())
        self.say(f"{len(self.rows):,} spectra selected: {what}")
        self.show(int(self.rows[0]) if len(self.rows) else None)

    def selected(self) -> pd.DataFrame:
        return self.data.iloc[self.rows][self.columns].reset_index(drop=True)

    def filter(self) -> None:
        condition = self.condition.value.strip()
        if condition:
            self.select(selection.filtered(self.data, condition), f"where {condition}")

    def pick_ids(self) -> None:
        wanted = [line.strip() for line in self.id_list.value.splitlines() if line.strip()]
        rows, unknown = selection.by_id(self.data["id"], wanted)
        self.select(rows, "the ids given")
        if unknown:
            self.say(
                f"not in the pool: {', '.join(unknown[:10])}; the other {len(rows)} selected",
                error=True,
            )

    def on_table_pick(self, event) -> None:
        if event.new:
            self.show(int(self.rows[event.new[0]]))

    def step(self, move: int) -> None:
        """Show the next (`move` 1) or previous (-1) spectrum of the selection."""
        if not len(self.rows):
            return
        at = np.flatnonzero(self.rows == self.shown)
        here = int(at[0]) if at.size else -move
        self.show(int(self.rows[(here + move) % len(self.rows)]))

    def more_like_this(self) -> None:
        if self.shown is None:
            raise UserError("more like this: show a spectrum first (click one on the map)")
        if self.neighbours is None:
            pool = self.iteration.pool / layout.NEIGHBOURS
            raise UserError(f"more like this: no neighbour index at {pool}; run snakemake {pool}")
        shown = self.data["id"].iloc[self.shown]
        found = self.neighbours.of(self.shown)
        self.select(np.concatenate([[self.shown], found]), f"{shown} and its {len(found)} nearest")

    def send_samp(self) -> None:
        folder = layout.under(self.iteration.results, layout.EXPLORER)
        reached = export.to_topcat(self.selected(), folder / "selection.vot")
        self.say(f"{len(self.rows):,} spectra sent to {', '.join(reached)}")

    def request(self) -> None:
        """Write the selection where the next iteration's query reads it."""
        if not len(self.rows):
            raise UserError("ask: select some spectra first")
        number = self.iteration.next_batch
        path = request_file(self.iteration.results, number)
        ids = self.data["id"].iloc[self.rows].tolist()
        whole = add_requests(path, ids, self.note.value, datetime.now(UTC))
        self.say(
            f"{len(ids)} spectra requested for iteration {number}'s batch"
            f" ({len(whole)} in {path}); they are asked first, within query.batch_size"
        )

    # ---- the spectrum ------------------------------------------------------------
    def show(self, row: int | None) -> None:
        """The spectrum at `row`: its window and whole spectrum, what is known of it."""
        self.shown = row
        if row is None:
            self.details.object, self.window_chart.object, self.whole_chart.object = "", None, None
            return
        entry, pool = self.data.iloc[row], self.iteration.pool
        location = self.iteration.locations.iloc[row]
        wavelength, flux = spectra.whole_spectrum(pool, location["shard"], location["row"])
        smooth = self.smoothing.value
        self.whole_chart.object = charts.spectrum_chart(
            wavelength, flux, "the whole spectrum", self.lines, smooth
        )
        window = spectra.window_of(pool, entry["id"], row)
        self.window_chart.object = (
            charts.spectrum_chart(
                *window, "the window the model reads", self.lines, smooth, "normalised flux"
            )
            if window is not None
            else None
        )
        self.details.object = self.describe(entry)
        self.marked.event(data=self.marker_rows())

    def describe(self, entry: pd.Series) -> str:
        """The shown spectrum's id, answer, probabilities, metadata and sky links."""
        config = self.iteration.config
        answer = entry.get(ANSWER)
        known = "not answered" if pd.isna(answer) else f"answered <b>{escape(str(answer))}</b>"
        probabilities = [
            f"{escape(c.removeprefix('p_'))} {entry[c]:.3f}"
            for c in probability_columns(config["classes"])
            if c in entry and pd.notna(entry[c])
        ]
        metadata = "".join(
            f"<tr><th>{escape(name)}</th><td>{escape(str(entry[name]))}</td></tr>"
            for name in config["oracle"]["labelstudio"]["metadata"]
            if name in entry
        )
        sky = config["oracle"]["labelstudio"]["sky"]
        links = sky_panel(entry.get("ra"), entry.get("dec"), sky, self.cutout.value)
        return (
            f'<div class="alspec-shown"><b class="alspec-id">{escape(str(entry["id"]))}</b>'
            f" · {known} · {' · '.join(probabilities)}</div>"
            f"<table>{metadata}</table>{links if sky['enabled'] else ''}"
        )

    # ---- the page --------------------------------------------------------------
    def page(self) -> pn.viewable.Viewable:
        run = self.iteration
        header = f"alspec explorer · iteration {run.number} · {len(self.data):,} spectra"
        sidebar = [
            self.x, self.y, self.colour, self.overlays, self.condition, self.apply_filter,
            self.id_list, self.select_ids, pn.pane.Markdown("**Ask** for the selection"),
            self.note, self.ask, pn.Row(self.csv, self.vot), self.samp, self.keys,
        ]  # fmt: skip
        spectrum = pn.Column(
            pn.Row(self.previous, self.next, self.more_like, self.smoothing, self.cutout),
            self.details, self.window_chart, self.whole_chart, sizing_mode="stretch_width",
        )  # fmt: skip
        main = pn.Column(
            self.message, self.legend, self.map_pane,
            pn.Row(self.table, spectrum, sizing_mode="stretch_width"),
            sizing_mode="stretch_both",
        )  # fmt: skip
        title = pn.pane.HTML(f"<h2>{escape(header)}</h2>", sizing_mode="stretch_width")
        return pn.Column(
            title,
            pn.Row(pn.Column(*sidebar, width=300), main, sizing_mode="stretch_both"),
            sizing_mode="stretch_both",
        )
