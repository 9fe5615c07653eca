"""The whole loop through real Snakemake: two iterations on a tiny simulated survey."""

from __future__ import annotations

import json
import re
import struct
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from astropy.io import votable

from alspec.explorer.app import Explorer
from alspec.explorer.tables import load
from alspec.layout import REPORT_FILES
from alspec.learning.fitting import checkpoint_name
from alspec.pool.store import open_pool
from alspec.query.batch import candidates

from conftest import (
    BIN,
    CHROMIUM,
    CHROMIUM_FLAGS,
    INTEREST,
    REPO,
    SCREENSHOTS,
    TINY,
    project,
    snakemake,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tiny_run):
    return tiny_run.workdir


def read(workdir, n: int, name: str) -> pd.DataFrame:
    return pd.read_parquet(workdir / "results" / "iterations" / str(n) / name)


def test_a_numbered_target_builds_that_iteration_and_nothing_more(tiny_run):
    built = tiny_run.built_first
    assert {p for p in built if re.fullmatch(r"iterations/\d+", p)} == {
        "iterations/0",
        "iterations/1",
    }
    assert "iterations/1/query.parquet" in built
    assert "iterations/1/labels.parquet" not in built, "iteration 1 is not answered yet"
    assert "iterations/0/performance.json" not in built


def test_answers_become_the_next_training_set(workdir):
    truth = pd.read_parquet(workdir / "results" / "survey" / "truth.parquet").set_index("id")
    first, answers, second = (
        read(workdir, 0, "training_set.parquet"),
        read(workdir, 0, "labels.parquet"),
        read(workdir, 1, "training_set.parquet"),
    )
    assert len(first) == 40
    assert set(second["id"]) == set(first["id"]) | set(answers["id"])
    assert (second.set_index("id")["label"] == truth.loc[second["id"], "label"]).all()
    query = read(workdir, 1, "query.parquet")
    assert not set(query["id"]) & set(second["id"]), "nothing is asked twice"
    sources = {"anomaly", "typical", "prior"}  # discovery, while a class is scarce
    assert set(query["reason"]) <= {"uncertain", "estimate", *sources}
    assert query["reason"].isin({"uncertain", *sources}).sum() == 25
    drawn = query.loc[query["reason"] == "estimate"]
    assert len(drawn) == 16 and drawn["inclusion"].between(0, 1, inclusive="right").all()
    assert drawn["stratum"].notna().all(), "each draw records its stratum and weight"


def test_predictions_cover_the_pool(workdir):
    predictions = read(workdir, 1, "predictions.parquet")
    assert len(predictions) == 300 and predictions["id"].is_unique
    assert {"id", "predicted", "p_other", "p_single_peak", "p_double_peak", "entropy"} <= set(
        predictions.columns
    )
    candidates = read(workdir, 1, "candidates.parquet")
    assert set(candidates["label"]) <= {"single_peak", "double_peak"}


def test_the_default_target_evaluates_every_iteration_then_does_nothing(tiny_run, workdir):
    run = tiny_run.whole
    for n in (0, 1):
        report = yaml.safe_load((workdir / f"results/iterations/{n}/performance.json").read_text())
        assert report["iteration"] == n
        catalogue = report["catalogue"]
        assert catalogue["sample"]["size"] == 16
        assert catalogue["size"] == catalogue["answered"] + catalogue["predicted"]
        for name in ("precision", "completeness"):
            estimate = catalogue[name]
            assert (estimate["estimate"] is None) == (estimate["interval"] is None)
            assert estimate["estimate"] is not None or estimate["why"]
        assert set(report["truth"]["per_class"]) == {"other", "single_peak", "double_peak"}
        assert 0 <= report["truth"]["catalogue"]["completeness"] <= 1
        resolved = yaml.safe_load((workdir / f"results/iterations/{n}/config.yaml").read_text())
        assert resolved["model"]["architecture"] == "slim"
        assert resolved["model"]["learning_rate"] == 0.001, "defaults are filled in"
        assert (workdir / f"results/iterations/{n}/model.keras").stat().st_size > 0
        (checkpoint,) = (workdir / f"results/iterations/{n}/checkpoints").glob("*.keras")
        f1 = report["validation_f1"]
        assert checkpoint.name == checkpoint_name(n, f1, ".keras")
        if f1 is None:  # no emitter in the validation split: the F1 would say nothing
            assert report["not_measurable"]
    assert "iteration 1:" in run.stdout + run.stderr, "evaluate prints its summary"
    samples = [
        json.loads((workdir / f"results/iterations/{n}/performance.json").read_text())["catalogue"][
            "objects_of_interest"
        ]["samples"]
        for n in (0, 1)
    ]
    assert samples[1][: len(samples[0])] == samples[0], "iteration 1 averages with 0's"
    again = snakemake(workdir, "--dry-run")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_report_lists_every_iteration_and_redraws_one_by_hand(workdir):
    out = workdir / "by-hand"
    result = subprocess.run(
        [str(BIN / "alspec"), "report", str(workdir / "results"), "--iteration", "0", "--out", out],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("iteration")]
    assert len(lines) == 2 and "F1 on the truth" in lines[0] and "validation F1" in lines[0]
    assert f"report of iteration 0: 6 figures in {out}" in result.stdout
    drawn = workdir / "results/iterations/0/report"
    for name in ("learning_curve.csv", "gallery.csv", "map.json"):
        assert (out / name).read_text() == (drawn / name).read_text(), "the same from its files"


def drawn(path) -> bool:
    """A figure with something in it (a PNG of axes and labels, or the batch's page)."""
    return path.stat().st_size > (5_000 if path.suffix == ".png" else 1_000)


def report_data(workdir, n: int, name: str):
    path = workdir / "results" / "iterations" / str(n) / "report" / name
    return (
        pd.read_csv(path, dtype={"id": str})
        if name.endswith(".csv")
        else json.loads(path.read_text())
    )


def test_each_iteration_has_its_figures_drawn_from_its_files(workdir):
    for n in (0, 1):
        folder = workdir / "results" / "iterations" / str(n) / "report"
        for name in REPORT_FILES["classification"]:
            assert drawn(folder / name), name
    curve = report_data(workdir, 1, "learning_curve.csv")
    for n in (0, 1):
        record = json.loads((workdir / f"results/iterations/{n}/performance.json").read_text())
        point = curve.iloc[n]
        assert point["labels"] == record["training_set_size"]
        assert point["catalogue"] == record["catalogue"]["size"]
        for name in ("precision", "completeness"):
            estimate = record["catalogue"][name]["estimate"]
            assert np.isnan(point[name]) if estimate is None else point[name] == estimate
        truth = record["truth"]["catalogue"]["completeness"]
        assert point["truth_completeness"] == pytest.approx(truth)
        assert point["truth_f1"] == pytest.approx(record["truth"]["interest_f1"])
        known = pd.concat(
            [read(workdir, n, "training_set.parquet"), read(workdir, n, "labels.parquet")]
        )
        assert point["found"] == known["label"].isin(["single_peak", "double_peak"]).sum()


def test_the_map_counts_each_class_as_predicted(workdir):
    drawn = report_data(workdir, 1, "map.json")
    predicted = read(workdir, 1, "predictions.parquet")["predicted"].value_counts()
    assert drawn["counts"] == {c: int(predicted.get(c, 0)) for c in drawn["counts"]}
    assert drawn["spectra"] == 300 and drawn["method"] == "TSNE"
    assert drawn["batch"] == len(read(workdir, 1, "query.parquet"))


def test_the_gallery_and_the_batch_show_exactly_what_they_say(workdir):
    for n in (0, 1):
        shown = report_data(workdir, n, "gallery.csv")
        found = read(workdir, n, "candidates.parquet")
        waiting = found.loc[found["source"] == "predicted"]  # not yet confirmed
        best = waiting.sort_values(["probability", "id"], ascending=[False, True]).head(12)
        assert shown.loc[shown["group"] == "top", "id"].tolist() == best["id"].tolist()
        query = read(workdir, n, "query.parquet")
        answers = read(workdir, n, "labels.parquet").set_index("id")["label"]
        sample = shown.loc[shown["group"] == "estimate sample"]
        drawn = query.loc[(query["reason"] == "estimate") & query["id"].isin(set(found["id"]))]
        assert sample["id"].tolist() == drawn["id"].tolist()
        assert (sample["answer"] == answers.loc[sample["id"]].to_numpy()).all()
    batch = report_data(workdir, 1, "batch.csv")
    assert batch["id"].tolist() == query["id"].tolist()
    assert (batch["answer"] == answers.loc[batch["id"]].to_numpy()).all()
    advice = report_data(workdir, 1, "stopping.json")
    before, now = (set(read(workdir, n, "candidates.parquet")["id"]) for n in (0, 1))
    assert advice["history"][1]["overlap"] == pytest.approx(len(before & now) / len(before | now))
    assert advice["advice"].startswith("go on"), "two iterations cannot show the list settled"


def test_the_session_hands_over_its_last_catalogue_and_answers_sql(workdir):
    results = workdir / "results"
    last = results / "iterations" / "1" / "catalogue" / "candidates.csv"
    handed = pd.read_csv(results / "catalogue" / "candidates.csv", dtype={"id": str})
    assert handed.equals(pd.read_csv(last, dtype={"id": str}))
    # once the batch is answered: the answered emitters and the unanswered predicted ones
    answers = pd.concat([read(workdir, 1, name) for name in ("training_set.parquet",
                                                              "labels.parquet")])  # fmt: skip
    members = candidates(read(workdir, 1, "predictions.parquet"), answers, INTEREST)
    assert sorted(handed["id"]) == sorted(members["id"]) and (handed["iteration"] == 1).all()
    record = json.loads((results / "iterations/1/performance.json").read_text())
    assert record["catalogue"]["size"] == len(handed), "the estimates are of what is handed over"
    table = votable.parse_single_table(results / "catalogue" / "candidates.vot", verify="exception")
    assert {f.ucd for f in table.fields} >= {"pos.eq.ra;meta.main", "stat.probability"}

    def sql(query: str, *options: str) -> subprocess.CompletedProcess:
        command = [str(BIN / "alspec"), "sql", query, "--results", str(results), *options]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    counts = sql("SELECT iteration, count(*) AS n FROM predictions GROUP BY ALL ORDER BY 1")
    assert counts.returncode == 0, counts.stderr
    assert counts.stdout.split() == ["iteration", "n", "0", "300", "1", "300"]
    query = (
        "SELECT l.id FROM labels l JOIN catalog c USING (id)"
        " WHERE l.label = 'double_peak' AND c.snrr > 20 ORDER BY 1"
    )
    written = sql(query, "--out", str(workdir / "bright.parquet"))
    assert written.returncode == 0, written.stderr
    labels = pd.read_parquet(results / "pool" / "labels.parquet")
    snr = pd.read_parquet(results / "pool" / "catalog.parquet").set_index("id")["snrr"]
    bright = labels.loc[
        (labels["label"] == "double_peak") & (snr.loc[labels["id"]].to_numpy() > 20)
    ]
    assert pd.read_parquet(workdir / "bright.parquet")["id"].tolist() == sorted(bright["id"])
    refused = sql("SELECT nothing FROM catalog")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert (
        "nothing" in refused.stderr
        and "views: catalog, labels, predictions, candidates" in refused.stderr
    )


def png_width(path) -> int:
    """The width a PNG file declares in its header."""
    return struct.unpack(">I", path.read_bytes()[16:20])[0]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing: run `make env`")
def test_the_html_report_shows_every_figure_of_the_last_iteration(workdir):
    """`snakemake --report` bundles the figures; in a browser, each of the last
    iteration's opens and loads at its full size. Screenshots: results/screenshots/."""
    from playwright.sync_api import sync_playwright

    run = snakemake(workdir, "--report", "results/report.html")
    assert run.returncode == 0, run.stderr[-3000:]
    figures = workdir / "results" / "iterations" / "1" / "report"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1700, "height": 1100})
        page.goto((workdir / "results" / "report.html").as_uri())
        page.get_by_text("Iteration 1", exact=True).first.click()
        for name in REPORT_FILES["classification"]:
            stem = name.split(".")[0]
            cell = page.locator("td", has_text=re.compile(f"^{stem.replace('_', ' ')}$"))
            page.locator("tr", has=cell).locator("a[iconname=eye]").click()
            if name.endswith(".png"):
                shown = page.locator(f"img[src*='filename={name};']")
                shown.wait_for(state="visible")
                width = shown.evaluate("image => image.complete && image.naturalWidth")
                assert width == png_width(figures / name), f"{name} loaded whole"
            else:
                frame = page.frame_locator(f"iframe[src*='filename={name};']")
                assert "Batch of iteration 1" in frame.locator("h3").inner_text()
            page.screenshot(path=SCREENSHOTS / f"report-{stem}.png")
        browser.close()
    assert len(list(SCREENSHOTS.glob("report-*.png"))) >= len(REPORT_FILES["classification"])


def test_iteration_zero_can_start_from_a_labelled_set(tmp_path):
    pd.DataFrame({"id": ["101", "102", "103"], "label": ["other", "single_peak", "unsure"]}).to_csv(
        tmp_path / "mine.csv", index=False
    )
    project(tmp_path, TINY | {"initial": {"source": "labelled", "labelled_set": "mine.csv"}})
    plan = snakemake(tmp_path, "--dry-run", "results/iterations/0/query.parquet")
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert "cold_start" not in plan.stdout and "rule push" not in plan.stdout
    run = snakemake(tmp_path, "results/iterations/0/training_set.parquet")
    assert run.returncode == 0, run.stderr[-2000:]
    training_set = pd.read_parquet(tmp_path / "results/iterations/0/training_set.parquet")
    assert training_set.set_index("id")["label"].to_dict() == {
        "101": "other",
        "102": "single_peak",
        "103": "unsure",
    }
    assert not (tmp_path / "results" / "survey").exists(), "no survey needed to read labels"


def test_iteration_zero_can_train_on_another_instruments_set(tmp_path):
    subprocess.run(
        [
            BIN / "alspec",
            "simulate",
            "--external",
            "--out",
            tmp_path / "ondrejov",
            "--set",
            "simulate.n_spectra=40",
        ],
        check=True,
        capture_output=True,
    )
    external = {"files": "ondrejov/spectra", "labels": "ondrejov/truth.parquet"}
    project(tmp_path, TINY | {"initial": {"source": "external", "external": external}})
    run = snakemake(tmp_path, "results/iterations/0/model.keras")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "rule transfer" in run.stderr and "cold_start" not in run.stderr
    training = yaml.safe_load((tmp_path / "results/iterations/0/training.json").read_text())
    assert sum(training["examples"].values()) == 40
    assert training["examples"]["other"] > 0, "absorption stars are 'other' in the pool's classes"


def test_iteration_zero_can_ask_about_spectra_the_user_chose(tmp_path):
    (tmp_path / "mine.txt").write_text("123\n456\n")
    project(tmp_path, TINY | {"initial": {"source": "chosen", "ids": "mine.txt"}})
    plan = snakemake(tmp_path, "--dry-run", "results/cold_start/query.parquet")
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert "--ids mine.txt" in plan.stdout + plan.stderr
    project_without_ids = TINY | {"initial": {"source": "chosen"}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(project_without_ids))
    refused = snakemake(tmp_path, "--dry-run")
    assert refused.returncode != 0
    assert "initial.ids: required" in refused.stdout + refused.stderr


def test_a_scikit_learn_committee_with_a_held_out_set_and_parallel_inference(tmp_path):
    survey = {"n_spectra": 300, "seed": 3, "rates": {"single_peak": 0.05, "double_peak": 0.05}}
    settings = TINY | {
        "model": {"type": "random_forest", "predict_jobs": 2},
        "query": {
            "strategy": "vote_entropy",
            "committee": {"models": ["random_forest", "knn"]},
            "batch_size": 25,
            "estimate_sample": 16,
            "pool_sample_size": 10,
        },
        "features": {"map": {"method": "none"}, "pca": {"components": 5}},
        "evaluation": {"held_out": "held_out.parquet", "truth": None},
        "simulate": survey,
    }
    project(tmp_path, settings)
    run = snakemake(tmp_path, "results/survey/truth.parquet")
    assert run.returncode == 0, run.stderr[-3000:]
    truth = pd.read_parquet(tmp_path / "results/survey/truth.parquet")
    held_out = truth.groupby("label").head(15)
    held_out.to_parquet(tmp_path / "held_out.parquet")
    run = snakemake(tmp_path, "results/iterations/1/performance.json")
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stderr.count("rule predict:") == 4, "two parts per iteration"
    iteration = tmp_path / "results/iterations/1"
    assert (iteration / "model.joblib").exists() and not (iteration / "predictions").exists()
    predictions = read(tmp_path, 1, "predictions.parquet")
    assert len(predictions) == 300 and (predictions["members"] == 2).all()
    query = read(tmp_path, 1, "query.parquet")
    assert (query["reason"] == "pool_random").sum() == 10
    vote_entropy = predictions.set_index("id")["vote_entropy"]
    not_asked = ~vote_entropy.index.isin(
        [*read(tmp_path, 1, "training_set.parquet")["id"], *query["id"]]
    )
    uncertain = query.loc[query["reason"] == "uncertain", "id"]
    assert vote_entropy[uncertain].min() >= vote_entropy[not_asked].max(), "disagreement first"
    asked = pd.concat(
        [
            read(tmp_path, n, name)
            for n in (0, 1)
            for name in ("query.parquet", "training_set.parquet")
        ]
    )
    assert not set(asked["id"]) & set(held_out["id"]), "the held-out set is never asked"
    report = yaml.safe_load((iteration / "performance.json").read_text())
    assert report["held_out"]["spectra"] == len(held_out) > 30
    assert sum(map(sum, report["held_out"]["confusion_matrix"]["counts"])) == len(held_out)
    assert report["pool_sample"]["sample_size"] == 10
    training = yaml.safe_load((iteration / "training.json").read_text())
    assert training["models"] == ["random_forest", "knn"]


def test_anomaly_mode_asks_the_top_of_the_ranking_and_relearns_it(tmp_path):
    """Seed 004's loop on the tiny survey with rare line shapes no class names: the
    simulated expert finds P Cygni profiles most relevant (5), double peaks somewhat (3),
    the rest (nebular lines too) not at all."""
    relevance_of = {"p_cygni": 5, "double_peak": 3}
    anomaly = {"detector": "lof", "neighbours": 20, "candidates": 30, "relevance_of": relevance_of}
    rates = TINY["simulate"]["rates"] | {"p_cygni": 0.03, "forbidden_lines": 0.03}
    simulate = TINY["simulate"] | {"rates": rates}
    settings = {"mode": "anomaly", "anomaly": anomaly, "simulate": simulate}
    project(tmp_path, TINY | settings | {"query": {"batch_size": 10}})
    run = snakemake(tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    truth = pd.read_parquet(tmp_path / "results" / "survey" / "truth.parquet").set_index("id")
    scores = pd.read_parquet(tmp_path / "results" / "pool" / "anomaly_scores.parquet")
    assert len(scores) == 300 and scores["score"].between(0, 1).all()
    first = read(tmp_path, 0, "query.parquet")
    top = scores.sort_values("score", ascending=False)["id"].head(10)
    assert list(first["id"]) == list(top), "iteration 0 asks the detector's top 10"
    answers = read(tmp_path, 0, "labels.parquet")
    given = {"p_cygni": "5", "double_peak": "3", "single_peak": "3"}  # default's single_peak stays
    relevance = truth.loc[answers["id"], "label"].map(given)
    assert (answers.set_index("id")["label"] == relevance.fillna("0")).all()
    assert len(read(tmp_path, 1, "training_set.parquet")) == 10
    second = read(tmp_path, 1, "query.parquet")
    assert len(second) == 10 and not set(second["id"]) & set(first["id"]), "nothing asked twice"
    ranked = read(tmp_path, 1, "predictions.parquet")
    assert list(ranked["rank"]) == list(range(1, 301))
    asked = ranked.set_index("id").loc[answers["id"]]
    expected = asked["score"] * (0.1 + 0.85 * answers.set_index("id")["label"].astype(float) / 5)
    np.testing.assert_allclose(asked["trained_score"], expected.loc[asked.index]), "S U~"
    report = yaml.safe_load((tmp_path / "results/iterations/1/performance.json").read_text())
    assert set(report["after"]) == {"single_peak", "double_peak", "p_cygni", "forbidden_lines"}
    assert report["training_set_size"] == 10 and report["batch_relevance"]["mean"] is not None
    assert "RWS" in run.stdout + run.stderr, "evaluate prints its summary"
    assert (tmp_path / "results/iterations/1/provenance.json").exists()
    curve = report_data(tmp_path, 1, "learning_curve.csv")
    assert curve["rws_after_p_cygni"].tolist() == pytest.approx(
        [r["after"]["p_cygni"]["rws"] for r in (first_report(tmp_path), report)]
    )
    shown = report_data(tmp_path, 1, "gallery.csv")
    assert shown["id"].tolist() == ranked.nlargest(12, "trained_score")["id"].tolist()
    counts = report_data(tmp_path, 1, "relevance.json")["batch"]
    assert sum(counts.values()) == len(read(tmp_path, 1, "labels.parquet"))
    assert report_data(tmp_path, 1, "map.json")["spectra"] == 300
    explorer = Explorer(load(tmp_path / "results"), neighbours=None)
    assert explorer.colour.value == "trained_score", "the explorer shows the ranking"
    top = explorer.selected()["id"]
    assert set(top) == set(ranked["id"].head(100)) and top.iloc[0] == ranked["id"].iloc[0]


def first_report(workdir) -> dict:
    return json.loads((workdir / "results/iterations/0/performance.json").read_text())


def test_anomaly_mode_ranks_the_table_1_curves_by_their_raw_values(tmp_path):
    """Seed 004 §6's data through the whole loop (config/curves.yaml, 1,000 curves):
    `alspec simulate` writes the curves as one table, the ingest puts them on an evenly
    spaced grid of x, the detector reads their raw values (no features step), and the
    expert's relevance re-ranks them."""
    curves = yaml.safe_load((REPO / "config" / "curves.yaml").read_text())
    relevance_of = curves["anomaly"]["relevance_of"]
    small = {
        "iterations": 2,
        "simulate": curves["simulate"] | {"n_spectra": 1000},
        "anomaly": curves["anomaly"] | {"neighbours": 20, "candidates": 20},
    }
    project(tmp_path, curves | small)
    run = snakemake(tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    results = tmp_path / "results"
    table = pd.read_csv(results / "survey" / "spectra" / "curves.csv").set_index("id")
    pool = open_pool(results / "pool")
    np.testing.assert_allclose(pool.wavelength, np.linspace(0, 1, 100))
    flux = pd.DataFrame(pool.flux.values, index=pool.id.values).loc[table.index]
    np.testing.assert_allclose(flux, table.to_numpy(), rtol=1e-6), "values copied, not resampled"
    assert not (results / "pool" / "features.zarr").exists(), "raw values need no features"
    truth = pd.read_parquet(results / "survey" / "truth.parquet").set_index("id")["label"]
    scores = pd.read_parquet(results / "pool" / "anomaly_scores.parquet").set_index("id")
    outlier = truth.loc[scores.index].isin(relevance_of)
    assert scores["score"][outlier].median() > scores["score"][~outlier].quantile(0.95)
    answers = read(tmp_path, 0, "labels.parquet").set_index("id")["label"]
    expected = truth.loc[answers.index].map(relevance_of).fillna(0).astype(int).astype(str)
    assert (answers == expected).all(), "the simulated expert answers each class's relevance"
    report = yaml.safe_load((results / "iterations/1/performance.json").read_text())
    assert set(report["after"]) == set(relevance_of), "inliers are not scored as anomalies"
    assert report["training_set_size"] == 10
    record = yaml.safe_load((results / "iterations/1/provenance.json").read_text())
    assert set(record["inputs"]) == {"store", "training_set", "anomaly_scores"}
    assert record["inputs"]["anomaly_scores"]["checksum"].startswith("sha256:")
    note = report_data(tmp_path, 1, "map.json")["note"]
    assert note.startswith("no map: no features store"), "a report without the map, and why"
    for name in REPORT_FILES["anomaly"]:
        assert drawn(results / "iterations/1/report" / name), name
    explorer = Explorer(load(results), neighbours=None)  # no map, no positions
    axes = explorer.data[[explorer.x.value, explorer.y.value]]
    assert "ra" not in axes and axes.notna().all().all(), "two columns with values: no sky here"
    assert "no features store" in explorer.legend.object
    assert explorer.whole_chart.object is not None, "the curve itself, from the pool"


def test_discovery_finds_the_rare_class_where_entropy_alone_cannot(tmp_path):
    """A rare survey: 8 emitters among 800 spectra, none in the random cold start. The
    model then knows only `other` and its entropy is flat; discovery's sources find
    emitters in the first batch, and the reports say what cannot be measured yet."""
    rare = {
        "iterations": 2,
        "simulate": {
            "n_spectra": 800,
            "seed": 11,
            "rates": {"single_peak": 0.006, "double_peak": 0.004, "m_dwarf": 0.02},
            "emission_ew": [4, 40],
        },
        "initial": {"size": 40, "seed": 1},
        "model": {"architecture": "slim", "epochs": 4, "batch_size": 16},
        "features": {"map": {"method": "none"}, "pca": {"components": 5}},
        "query": {
            "batch_size": 30,
            "estimate_sample": 16,
            "discovery": {"min_examples": 3},
        },
    }
    project(tmp_path, rare)
    # up to what is checked: iteration 0 evaluated, iteration 1's batch chosen
    run = snakemake(
        tmp_path, "results/iterations/0/performance.json", "results/iterations/1/query.parquet"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    cold_start = pd.read_parquet(tmp_path / "results/cold_start/labels.parquet")
    assert set(cold_start["label"]) == {"other"}, "the cold start holds no emitter"
    interest = {"single_peak", "double_peak"}
    answers = read(tmp_path, 0, "labels.parquet")
    hits = answers.assign(hit=answers["label"].isin(interest)).groupby("reason")["hit"].sum()
    assert hits.get("uncertain", 0) == 0, "entropy alone finds nothing"
    assert hits.drop("uncertain", errors="ignore").sum() > 0, "discovery finds emitters"
    report = yaml.safe_load((tmp_path / "results/iterations/0/performance.json").read_text())
    assert report["validation_f1"] is None
    assert sorted(report["not_measurable"]) == sorted(interest)
    assert report["batch"]["uncertain"]["of_interest"] == 0
    assert "not measurable yet" in run.stdout + run.stderr
    second = read(tmp_path, 1, "query.parquet")
    log = (tmp_path / "results/logs/query/1.log").read_text()
    assert "discovery: scarcity" in log and set(second["reason"]) - {"estimate"}


def test_a_warm_start_trains_each_iteration_from_the_one_before(tmp_path):
    project(tmp_path, TINY | {"model": TINY["model"] | {"warm_start": True}})
    plan = snakemake(tmp_path, "--dry-run", "--printshellcmds", "results/iterations/1/model.keras")
    assert plan.returncode == 0, plan.stderr[-2000:]
    trains = [line for line in plan.stdout.splitlines() if "alspec train " in line]
    by_iteration = {int(re.search(r"--iteration (\d+)", t).group(1)): t for t in trains}
    assert "--warm-start" not in by_iteration[0], "iteration 0 starts fresh"
    assert "--warm-start results/iterations/0/model.keras" in by_iteration[1]
