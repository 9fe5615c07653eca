"""An iteration's files and its predecessors', read when a figure of its report needs
them, and each figure with the data it shows."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from alspec import layout
from alspec.io import read_json, read_table
from alspec.query.batch import pool_scores
from alspec.report import figures, gallery, history, maps

logger = logging.getLogger(__name__)


class Iteration:
    """An iteration's files and its predecessors', read when a figure needs them."""

    def __init__(
        self,
        results: Path,
        folders: list[Path],
        settings: Mapping[str, Any],
        *,
        window: Path | None,
        features: Path | None,
    ) -> None:
        self.folders, self.folder = folders, folders[-1]
        self.window, self.features = window, features
        self.settings, self.chosen = settings, settings["report"]
        self.iteration = int(self.folder.name)
        self.pool = layout.under(results, layout.POOL)
        self.records = [read_json(f / layout.PERFORMANCE) for f in folders]
        self.colours = maps.class_colours(settings["classes"], settings["classes_of_interest"])

    def table(
        self, name: str, folder: Path | None = None, required: tuple[str, ...] = ()
    ) -> pd.DataFrame:
        return read_table((folder or self.folder) / name, required)

    def answers(self, folder: Path) -> pd.DataFrame:
        return history.known_answers(
            self.table(layout.TRAINING_SET, folder), self.table(layout.ANSWERS, folder)
        )

    def drawings(self) -> dict[str, Callable[[], tuple[Any, Any]]]:
        """How each figure of the report is drawn, by the stem of its file name (the
        names are alspec.layout.REPORT_FILES); each returns (figure or page, its data)."""
        anomaly = self.settings["mode"] == "anomaly"
        return {
            "learning_curve": self.ranking_curve if anomaly else self.learning_curve,
            "map": self.map,
            "gallery": self.gallery,
            "batch": self.batch,
            "confusion": self.confusion,
            "relevance": self.relevance,
            "stopping": self.stopping,
        }

    # --- the figures: each returns (figure or page, the data it shows) ---------------------

    @functools.cached_property
    def curve(self) -> pd.DataFrame:
        """The learning curve so far (classification mode): the learning curve's figure and
        the stopping advice both read it."""
        answers = [self.answers(f) for f in self.folders]
        return history.learning_curve(self.records, answers, self.settings["classes_of_interest"])

    def learning_curve(self) -> tuple[Any, pd.DataFrame]:
        return figures.learning_curve_figure(self.curve), self.curve

    def ranking_curve(self) -> tuple[Any, pd.DataFrame]:
        curve = history.ranking_curve(self.records)
        return figures.ranking_curve_figure(curve), curve

    def candidate_history(self) -> pd.DataFrame:
        ids = [set(self.table(layout.CANDIDATES, f, required=("id",))["id"]) for f in self.folders]
        if self.settings["mode"] == "anomaly":
            return history.candidate_history(ids, pd.DataFrame({"iteration": self.iterations}))
        return history.candidate_history(ids, self.curve)

    @property
    def iterations(self) -> list[int]:
        return [int(f.name) for f in self.folders]

    def stopping(self) -> tuple[Any, dict]:
        past = self.candidate_history()
        advice = history.stopping_advice(past, self.chosen["stop"])
        logger.info("advice after iteration %d: %s", self.iteration, advice["advice"])
        data = advice | {"history": json.loads(past.to_json(orient="records"))}
        return figures.stopping_figure(past, advice), data

    def batch(self) -> tuple[str, pd.DataFrame]:
        asked = self.table(layout.QUERY, required=("id", "reason"))
        answers = self.table(layout.ANSWERS, required=("id", "label"))
        answer = answers.drop_duplicates("id", keep="last").set_index("id")["label"]
        asked = asked.assign(answer=asked["id"].map(answer))
        return figures.batch_table(asked, self.iteration), asked

    def confusion(self) -> tuple[Any, dict]:
        record = self.records[-1]
        matrices = {
            title: record[key]["confusion_matrix"]
            for key, title in (("held_out", "Held-out set"), ("truth", "Truth"))
            if record.get(key)
        }
        counts = {}
        for folder in self.folders[-2:]:
            predicted = pd.read_parquet(folder / layout.PREDICTIONS, columns=["predicted"])
            counts[int(folder.name)] = predicted["predicted"].value_counts()
        table = pd.DataFrame(counts).reindex(self.settings["classes"]).fillna(0).astype(int)
        data = {
            "confusion": matrices,
            "predicted_counts": {str(k): v.to_dict() for k, v in table.items()},
        }
        return figures.confusion_figure(matrices, table, self.colours), data

    def relevance(self) -> tuple[Any, dict]:
        maximum = self.settings["anomaly"]["relevance"]["maximum"]
        batch = _relevances(self.table(layout.ANSWERS, required=("label",))["label"])
        so_far = _relevances(self.answers(self.folder)["label"])
        data = {"batch": _level_counts(batch), "so_far": _level_counts(so_far)}
        return figures.relevance_figure(batch, so_far, maximum), data

    def gallery(self) -> tuple[Any, pd.DataFrame]:
        top = self.chosen["gallery_top"]
        answers = self.table(layout.ANSWERS, required=("id", "label"))
        if self.settings["mode"] == "anomaly":
            ranked = self.table(layout.PREDICTIONS, required=("id", "trained_score", "relevance"))
            rows, score_name = gallery.ranking_rows(ranked, answers, top), "trained score"
        else:
            found = self.table(layout.CANDIDATES, required=("id", "label", "probability", "source"))
            batch = self.table(layout.QUERY, required=("id", "reason", "predicted", "probability"))
            rows, score_name = gallery.candidate_rows(found, batch, answers, top), "probability"
        ids = list(rows["id"])
        windows = gallery.read_windows(self.window, ids) if self.window else {}
        spectra = gallery.read_spectra(self.pool, ids)
        return gallery.gallery_figure(rows, windows, spectra, score_name=score_name), rows

    def map(self) -> tuple[Any, dict]:
        points = maps.read_coordinates(self.features)
        if isinstance(points, str):
            logger.warning("iteration %d: %s", self.iteration, points)
            empty = maps.Grid(1, 1, (0.0, 1.0), (0.0, 1.0))
            panel = {"title": "The pool's map", "note": points}
            return maps.map_figure([panel], empty, axis_name="map"), {"note": points}
        points = points.merge(self.scored_predictions(), on="id", how="inner")
        grid = maps.Grid.around(
            points["x"].to_numpy(), points["y"].to_numpy(), self.chosen["map_pixels"]
        )
        if self.settings["mode"] == "anomaly":
            panels = [maps.value_panel(points, grid, "trained_score", "Trained anomaly score")]
            counts = {}
        else:
            panel, counts = maps.class_panel(
                points, grid, self.settings["classes"], self.settings["classes_of_interest"]
            )
            strategy = self.settings["query"]["strategy"]
            title = f"Query score: {strategy} (where the model is unsure)"
            panels = [panel, maps.value_panel(points, grid, "score", title, how="max")]
        panels.append(self.column_panel(points, grid))
        labelled = set(self.table(layout.TRAINING_SET)["id"])
        asked = set(self.table(layout.QUERY)["id"])
        for panel in panels:
            if "note" not in panel:
                panel["markers"] = maps.marker_layers(points, labelled, asked)
        method = str(points["method"].iloc[0]).upper() if len(points) else "map"
        data = {
            "method": method,
            "spectra": len(points),
            "counts": counts,
            "labelled": int(points["id"].isin(labelled).sum()),
            "batch": int(points["id"].isin(asked).sum()),
        }
        return maps.map_figure(panels, grid, axis_name=method), data

    def scored_predictions(self) -> pd.DataFrame:
        """The pool's predictions with the query strategy's score of each spectrum."""
        table = self.table(layout.PREDICTIONS)
        if self.settings["mode"] != "anomaly":
            rng = np.random.default_rng(self.settings["query"]["seed"] + self.iteration)
            strategy = self.settings["query"]["strategy"]
            table["score"] = pool_scores(table, strategy, self.settings["classes"], rng)
        return table

    def column_panel(self, points: pd.DataFrame, grid: maps.Grid) -> dict[str, Any]:
        """The map coloured by the catalogue column of config report.map_column."""
        chosen = self.chosen["map_column"]
        if chosen is None:
            return {"title": "Catalogue", "note": "no column chosen (report.map_column)"}
        path = self.pool / layout.CATALOG
        names = pq.read_schema(path).names
        column = {c.lower(): c for c in names}.get(chosen.lower(), chosen)
        title = f"Catalogue: {column}"
        catalog = pd.read_parquet(path, columns=["id", column]) if column in names else None
        if catalog is None or not pd.api.types.is_numeric_dtype(catalog[column]):
            return {"title": title, "note": f"{chosen}: no numeric column of the pool's catalogue"}
        catalog["id"] = catalog["id"].astype(str)
        values = points[["id", "x", "y"]].merge(catalog[["id", column]], on="id", how="left")
        positive = bool((values[column].dropna() > 0).all())
        return maps.value_panel(values, grid, column, title, log=positive)


def _level_counts(values: pd.Series) -> dict[str, int]:
    return {str(level): int(n) for level, n in values.value_counts().sort_index().items()}


def _relevances(labels: pd.Series) -> pd.Series:
    """Relevance answers as numbers, "unsure" left out."""
    return pd.to_numeric(labels, errors="coerce").dropna().astype(int)
