"""What the explorer's gestures pick, checked against independent computations, and the
requests it writes for the next iteration."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from alspec.errors import InputError
from alspec.explorer.requests import add_requests, request_file
from alspec.explorer.selection import by_id, filtered, inside_polygon, nearest
from alspec.features.neighbours import exact_neighbours, neighbour_graph
from alspec.query.batch import select_batch, top_scores


def ray_casting(x: float, y: float, vertices: np.ndarray) -> bool:
    """Point in polygon the schoolbook way: count the edges a ray to the right crosses."""
    inside = False
    for (x1, y1), (x2, y2) in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_a_lasso_selects_exactly_the_points_inside_its_polygon(rng):
    x, y = rng.normal(size=4000), rng.normal(size=4000)
    star = np.array([[0, 2], [0.5, 0.5], [2, 0], [0.5, -0.5], [0, -2], [-0.5, -0.5], [-2, 0]])
    expected = [i for i in range(len(x)) if ray_casting(x[i], y[i], star)]
    assert inside_polygon(x, y, star).tolist() == expected
    assert 100 < len(expected) < 4000


def test_a_click_picks_the_nearest_spectrum_on_the_screen_not_in_raw_units():
    x, y = np.array([0.0, 100.0, 5.0]), np.array([0.0, 0.0, 1.0])
    assert nearest(x, y, (4.0, 0.0), scale=(1.0, 1.0)) == 2
    # a map 1000 wide and 1 high: one unit of y is the whole screen
    assert nearest(x, y, (4.0, 0.0), scale=(1000.0, 1.0)) == 0
    assert nearest(np.array([np.nan]), np.array([np.nan]), (0, 0), (1, 1)) is None


def test_a_filter_is_sql_over_the_pool_and_a_wrong_one_says_where():
    table = pd.DataFrame(
        {"id": ["a", "b", "c"], "snrr": [5.0, 30.0, 50.0], "predicted": ["other", "x", "x"]}
    ).astype({"predicted": "category"})
    assert filtered(table, "predicted = 'x' AND snrr > 40").tolist() == [2]
    with pytest.raises(InputError, match="snr_r"):
        filtered(table, "snr_r > 3")


def test_ids_not_in_the_pool_are_named_and_the_rest_kept():
    rows, unknown = by_id(pd.Series(["a", "b", "c"]), ["c", "zz", "a"])
    assert rows.tolist() == [2, 0] and unknown == ["zz"]


def test_nn_descent_finds_the_brute_force_neighbours_on_a_small_pool(rng):
    matrix = rng.normal(size=(400, 12))
    found, distances = neighbour_graph(matrix, k=10, seed=0, threads=1, exact_up_to=0)
    exact, exact_distances = exact_neighbours(matrix, k=10)
    assert (found == exact).all()
    assert np.allclose(distances, exact_distances, rtol=1e-4)
    assert (found != np.arange(400)[:, None]).all(), "a spectrum is not its own neighbour"


def test_requests_accumulate_once_each_and_never_touch_a_chosen_batch(tmp_path):
    path = request_file(tmp_path / "results", 3)
    when = datetime(2026, 12, 7, tzinfo=UTC)
    add_requests(path, ["a", "b"], "odd wings", when)
    whole = add_requests(path, ["b", "c"], "", when)
    assert whole["id"].tolist() == ["a", "b", "c"]
    assert set(pd.read_parquet(path)["reason"]) == {"requested"}
    (path.parent / "training_set.parquet").touch()
    with pytest.raises(FileExistsError, match="has begun already"):
        add_requests(path, ["d"])


def test_requested_spectra_come_first_and_the_strategy_fills_the_rest(rng):
    predictions = pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(50)],
            "score": np.linspace(0, 1, 50),
            "predicted": ["other"] * 45 + ["emitter"] * 5,
            "probability": 0.9,
            "p_interest": [0.01] * 45 + [0.9] * 5,
        }
    )
    batch = select_batch(
        predictions, {"s3"}, ["emitter"], 6, 2, rng, top_scores, requested=["s3", "s7", "s8"]
    )
    asked = batch.set_index("id")["reason"]
    assert batch["id"].tolist()[:2] == ["s7", "s8"], "answered s3 is not asked again"
    assert (asked.loc[["s7", "s8"]] == "requested").all()
    assert asked[asked == "uncertain"].index.tolist() == ["s49", "s48", "s47", "s46"]
    sampled = asked[asked == "estimate"].index
    assert len(sampled) == 2 and "s45" in sampled, "the sample draws from what is left"
