"""alspec explore as a user meets it: a real server over a finished run (a copy of the
shared tiny run), driven in Chromium with no network; then the next iteration's query
run by Snakemake asks what the page requested. Screenshots: results/screenshots/."""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from astropy.io import votable

from alspec.explorer.selection import inside_polygon, nearest
from alspec.features.matrix import feature_matrix, prepared
from alspec.features.neighbours import exact_neighbours
from alspec.pool.store import open_store

from conftest import BIN, CHROMIUM, CHROMIUM_FLAGS, SCREENSHOTS, free_port, run_alspec, snakemake

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's chromium is missing: run `make env`"
    ),
]

# The map's figure (the first on the page) and its scales, from Bokeh's views.
MAP_VIEW = "Bokeh.index.all_views().find(v => v.model.type == 'Figure')"
TO_SCREEN = f"""([x, y]) => {{ const v = {MAP_VIEW};
  const box = v.canvas_view.el.getBoundingClientRect();
  return [box.left + v.frame.x_scale.compute(x), box.top + v.frame.y_scale.compute(y)]; }}"""
TO_DATA = f"""([sx, sy]) => {{ const v = {MAP_VIEW};
  const box = v.canvas_view.el.getBoundingClientRect();
  return [v.frame.x_scale.invert(sx - box.left), v.frame.y_scale.invert(sy - box.top)]; }}"""
# The map's raster as the server last sent it: its left edge and width in data units.
RASTER_EXTENT = """() => { const image = [...Bokeh.index.all_views()].find(
  v => v.model.type == 'GlyphRenderer' && v.model.glyph.type == 'Image').model.data_source.data;
  return [image.x[0], image.dw[0]]; }"""
CHART_TITLES = """() => [...Bokeh.index.all_views()].filter(v => v.model.type == 'Figure')
  .map(v => v.model.title && v.model.title.text)"""
VIEW = f"""() => {{ const v = {MAP_VIEW}; const r = v.frame;
  return [r.x_range.start, r.x_range.end, r.y_range.start, r.y_range.end]; }}"""


@pytest.fixture(scope="module")
def explored(tiny_run, tmp_path_factory):
    """A copy of the finished tiny run, served by `alspec explore` on a free port."""
    workdir = tmp_path_factory.mktemp("explored") / "run"
    shutil.copytree(tiny_run.workdir, workdir, symlinks=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "alspec"), "explore", "results", "--port", str(port)],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines = []
    for line in server.stdout:
        lines.append(line)
        if line.startswith("explorer: http"):
            break
    else:
        pytest.fail("".join(lines))
    url = line.split()[1]
    yield {"workdir": workdir, "url": url, "port": port}
    server.terminate()
    server.wait(timeout=30)


def features_of(workdir: Path) -> xr.Dataset:
    return open_store(workdir / "results/pool/features.zarr")


def shown_id(page) -> str:
    return page.locator(".alspec-id").first.inner_text()


def downloaded_ids(page, label: str) -> list[str]:
    with page.expect_download() as download:
        page.get_by_role("button", name=label, exact=True).click()
    return pd.read_csv(download.value.path(), dtype={"id": str})["id"].tolist()


def wait_for_message(page, pattern: str) -> None:
    """Until the page's message line matches `pattern` (30 s at most)."""
    message = page.locator(".alspec-message")
    message.filter(has_text=re.compile(pattern)).wait_for(timeout=30_000)


def test_a_request_without_the_secret_is_refused(explored):
    bare = f"http://127.0.0.1:{explored['port']}/"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bare, timeout=30)
    assert refused.value.code == 403
    wrong = urllib.request.Request(f"{bare}?token=guess")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(wrong, timeout=30)


def test_the_page_explores_the_pool_and_asks_for_the_next_batch(explored):
    """Long because it is one session in the browser, as a user works through it."""
    from playwright.sync_api import sync_playwright

    workdir = explored["workdir"]
    features = features_of(workdir)
    xy = features.map_coordinates.values
    ids = np.array([str(i) for i in features.id.values], dtype=object)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1300})
        errors, outside = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        local = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
        page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
        page.goto(explored["url"])
        page.locator("canvas").first.wait_for(timeout=60_000)
        wait_for_message(page, "selected")
        page.wait_for_timeout(1500)
        assert page.get_by_text(re.compile(r"predicted of 300 spectra")).count() == 1, "a legend"
        page.screenshot(path=SCREENSHOTS / "explorer.png", full_page=True)

        # a click picks the nearest spectrum, as the view measures near
        target = int(np.argmin(((xy - np.median(xy, axis=0)) ** 2).sum(axis=1)))
        sx, sy = page.evaluate(TO_SCREEN, xy[target].tolist())
        page.mouse.click(sx, sy)
        clicked = page.evaluate(TO_DATA, [sx, sy])
        x0, x1, y0, y1 = page.evaluate(VIEW)
        expected = ids[nearest(xy[:, 0], xy[:, 1], tuple(clicked), (x1 - x0, y1 - y0))]
        page.locator(".alspec-id", has_text=expected).wait_for(timeout=30_000)
        page.wait_for_function(f"() => ({CHART_TITLES})().includes('the whole spectrum')")
        assert "the window the model reads" in page.evaluate(CHART_TITLES)
        page.screenshot(path=SCREENSHOTS / "explorer-spectrum.png", full_page=True)

        # more like this: the shown spectrum and its nearest, as brute force finds them
        page.get_by_role("button", name="more like this").click()
        wait_for_message(page, "nearest")
        exact, _ = exact_neighbours(prepared(feature_matrix(features.load())), k=20)
        row = int(np.flatnonzero(ids == expected)[0])
        assert downloaded_ids(page, "CSV") == [expected, *ids[exact[row]]]

        # a lasso selects exactly the points inside its polygon
        page.get_by_title("Lasso Select").first.click()
        cx, cy = page.evaluate(TO_SCREEN, [float(np.median(xy[:, 0])), float(np.median(xy[:, 1]))])
        polygon = [
            (cx - 150, cy - 120),
            (cx + 160, cy - 90),
            (cx + 120, cy + 130),
            (cx - 140, cy + 100),
        ]
        page.mouse.move(*polygon[0])
        page.mouse.down()
        for point in [*polygon[1:], polygon[0]]:
            page.mouse.move(*point, steps=8)
        page.mouse.up()
        wait_for_message(page, "the lasso")
        vertices = np.array([page.evaluate(TO_DATA, list(p)) for p in polygon])
        inside = set(ids[inside_polygon(xy[:, 0], xy[:, 1], vertices)])
        in_order = downloaded_ids(page, "CSV")
        lassoed = set(in_order)
        page.keyboard.press("ArrowRight")  # keys step through the selection
        page.locator(".alspec-id", has_text=in_order[1]).wait_for(timeout=30_000)
        page.keyboard.press("ArrowLeft")
        page.locator(".alspec-id", has_text=in_order[0]).wait_for(timeout=30_000)
        assert len(lassoed) > 5
        assert lassoed == inside
        page.screenshot(path=SCREENSHOTS / "explorer-lasso.png", full_page=True)

        # a box zoom redraws the map at the new range: the server sends a new raster
        before, raster = page.evaluate(VIEW), page.evaluate(RASTER_EXTENT)
        page.get_by_title("Box Zoom").first.click()
        page.mouse.move(cx - 100, cy - 80)
        page.mouse.down()
        page.mouse.move(cx + 100, cy + 80, steps=8)
        page.mouse.up()
        page.wait_for_function(
            f"() => {{ const v = {MAP_VIEW}; return v.frame.x_range.start > {before[0]}; }}"
        )
        page.wait_for_function(f"() => ({RASTER_EXTENT})()[1] < {raster[1]}")
        page.screenshot(path=SCREENSHOTS / "explorer-zoomed.png", full_page=True)

        # ask: the lasso's spectra, for the next iteration's batch
        page.get_by_placeholder("why these").fill("a clump worth a look")
        page.get_by_role("button", name="ask", exact=True).click()
        wait_for_message(page, "spectra requested for iteration 2's batch")
        browser.close()
    assert not errors, errors
    assert not outside, f"requests leaving 127.0.0.1: {outside[:5]}"
    requested = pd.read_parquet(workdir / "results/iterations/2/requested.parquet")
    assert set(requested["id"]) == lassoed
    assert (requested["note"] == "a clump worth a look").all()
    explored["requested"] = requested


def test_the_next_query_asks_the_requested_spectra_first_and_a_rerun_asks_the_same(explored):
    workdir = explored["workdir"]
    if "requested" not in explored:
        pytest.skip("the page test did not write a request")
    target = "results/iterations/2/query.parquet"
    first = snakemake(workdir, target)
    assert first.returncode == 0, first.stderr[-3000:]
    query = pd.read_parquet(workdir / target)
    requested = explored["requested"]["id"].tolist()
    asked_first = query.loc[query["reason"] == "requested", "id"].tolist()
    answered = set(pd.read_parquet(workdir / "results/iterations/2/training_set.parquet")["id"])
    batch_size = 25
    expected = [i for i in requested if i not in answered][:batch_size]
    assert asked_first == expected, "asked before the estimate sample is drawn"
    assert query["reason"].iloc[: len(asked_first)].eq("requested").all()
    rerun = snakemake(workdir, target, "--forcerun", "query")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert pd.read_parquet(workdir / target).equals(query), "a rerun asks the same"


def test_bad_input_is_one_line(tmp_path, explored):
    empty = run_alspec("explore", str(tmp_path), check=False)
    assert empty.returncode == 1 and "no finished iteration" in empty.stderr
    assert empty.stderr.count("\n") == 1
    results = explored["workdir"] / "results"
    missing = run_alspec("explore", str(results), "--iteration", "9", check=False)
    assert "iteration 9 is not finished (finished: 0, 1)" in missing.stderr
    busy = run_alspec("explore", str(results), "--port", str(explored["port"]), check=False)
    assert busy.returncode == 1 and f"port {explored['port']}" in busy.stderr


def test_without_a_features_store_the_map_says_why_and_the_rest_works(
    explored, tmp_path, topcat, monkeypatch
):
    """The page built without a server: no map (ra against dec instead, and a message
    why), the table, the spectra and ids; unknown ids are named, the rest kept; the
    selection goes to TOPCAT over SAMP."""
    from alspec.explorer.app import Explorer
    from alspec.explorer.tables import load

    results = tmp_path / "results"
    shutil.copytree(explored["workdir"] / "results", results, symlinks=True)
    shutil.rmtree(results / "pool" / "features.zarr")
    iteration = load(results)
    assert "no features store" in iteration.map_missing and "map_x" not in iteration.table
    page = Explorer(iteration, neighbours=None)
    assert (page.x.value, page.y.value) == ("ra", "dec")
    assert "no features store" in page.legend.object
    known = iteration.table["id"].iloc[[5, 9]].tolist()
    page.id_list.value = "\n".join([known[0], "not-a-spectrum", known[1]])
    page.pick_ids()
    assert page.selected()["id"].tolist() == known
    assert "not in the pool: not-a-spectrum" in page.message.object
    assert page.shown == 5 and page.whole_chart.object is not None
    page.guarded(page.more_like_this)
    assert "no neighbour index" in page.message.object
    monkeypatch.setenv("SAMP_HUB", topcat.hub)
    page.send_samp()
    assert topcat.arrived.wait(10) and "sent to topcat" in page.message.object
    sent = votable.parse_single_table(topcat.received["url"].removeprefix("file://"))
    assert [str(i) for i in sent.to_table()["id"]] == known
    assert sent.get_field_by_id_or_name("ra").ucd == "pos.eq.ra;meta.main"
