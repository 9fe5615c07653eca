"""Every workflow step called as a library function, as a notebook or script would: a
tiny survey through one classification iteration, anomaly mode's steps, and a labelled
set from another instrument."""

from __future__ import annotations

import pandas as pd

from alspec.anomaly.steps import detect
from alspec.anomaly.steps import rank as rank_pool
from alspec.config import schema as cfg
from alspec.config import settings
from alspec.evaluation.steps import evaluate as evaluate_iteration
from alspec.evaluation.steps import evaluate_ranking
from alspec.evaluation.steps import provenance as write_record
from alspec.features.steps import features as write_features
from alspec.features.steps import transfer as transfer_set
from alspec.features.steps import window as write_window
from alspec.learning.steps import predict as predict_part
from alspec.learning.steps import train as train_iteration
from alspec.oracles.steps import pull as pull_batch
from alspec.oracles.steps import push as push_batch
from alspec.oracles.steps import training_set
from alspec.pool.ingest import gather_shards as gather
from alspec.pool.steps import ingest as ingest_listed
from alspec.pool.steps import shard as shard_files
from alspec.pool.store import open_store
from alspec.query.steps import cold_start as first_batch
from alspec.query.steps import query as choose_batch
from alspec.survey.steps import simulate as write_survey

from conftest import REPO

TINY = [
    "simulate.n_spectra=240",
    "simulate.rates={single_peak: 0.1, double_peak: 0.1}",
    "pool.shard_size=120",
    "pool.block_size=64",
    "features.map.method=none",
    "features.pca.sample=240",
    "initial.size=60",
    "model.architecture=slim",
    "model.epochs=2",
    "query.batch_size=10",
    "query.estimate_sample=16",
    "query.discovery.sources=[typical, prior]",
    "query.discovery.prior={feature: ew, line: halpha, order: ascending}",
]


def of(step: str, *more: str) -> dict:
    return settings.read(step, overrides=[*TINY, *more])


def test_a_classification_iteration_as_functions(tmp_path):
    survey, pool, it = tmp_path / "survey", tmp_path / "pool", tmp_path / "iteration"
    truth = write_survey(out=survey, settings=of("simulate"))
    assert len(truth) == 240 and (survey / "truth.parquet").exists()
    lists = pool / "shards" / "lists"
    assert shard_files(files=[survey / "spectra"], out=lists, settings=of("shard"))["shards"] == 2
    for listing in sorted(lists.iterdir()):
        ingest_listed(shard_list=listing, out=pool / "shards" / listing.stem, settings=of("ingest"))
    shards = sorted(p for p in (pool / "shards").iterdir() if p.name != "lists")
    gather(lists, shards, pool / "catalog.parquet", pool / "quarantine.parquet")
    write_window(pool=pool, out=pool / "window.zarr", settings=of("window"), threads=2)
    done = write_features(pool=pool, out=pool / "features.zarr", settings=of("features"))
    assert done["spectra"] == 240 and done["map"] == "none"

    asked = first_batch(
        window=pool / "window.zarr", out=it / "cold.parquet", settings=of("cold-start")
    )
    receipt = it / "cold.json"
    push_batch(query=it / "cold.parquet", batch="cold_start", receipt=receipt, settings=of("push"))
    answers, _ = pull_batch(
        query=it / "cold.parquet",
        batch="cold_start",
        receipt=receipt,
        out=it / "cold_labels.parquet",
        settings=of("pull"),
        truth=survey / "truth.parquet",
    )
    assert len(answers) == len(asked) == 60
    labelled = training_set(
        tables=[it / "cold_labels.parquet"], out=it / "set.parquet", settings=of("training-set")
    )
    report = train_iteration(
        inputs=[pool / "window.zarr"],
        training_set=it / "set.parquet",
        model_path=it / "model.keras",
        report_path=it / "training.json",
        settings=of("train"),
        threads=2,
    )
    assert sum(report["examples"].values()) == len(labelled)
    predicted = predict_part(
        inputs=pool / "window.zarr",
        model_path=it / "model.keras",
        out=it / "predictions.parquet",
        settings=of("predict", "model.predict_block_size=64"),
        training_report=it / "training.json",
    )
    assert predicted["spectra"] == open_store(pool / "window.zarr").valid.values.sum()
    batch, _ = choose_batch(
        predictions=it / "predictions.parquet",
        training_set=it / "set.parquet",
        out=it / "query.parquet",
        candidates_out=it / "candidates.parquet",
        settings=of("query"),
        features=pool / "features.zarr",
    )
    assert not set(batch["id"]) & set(labelled["id"]), "an answered spectrum is never asked"
    push_batch(
        query=it / "query.parquet", batch="iterations/0", receipt=it / "b.json", settings=of("push")
    )
    pull_batch(
        query=it / "query.parquet",
        batch="iterations/0",
        receipt=it / "b.json",
        out=it / "labels.parquet",
        settings=of("pull"),
        truth=survey / "truth.parquet",
    )
    performance = evaluate_iteration(
        iteration=0,
        labels=it / "labels.parquet",
        training_set=it / "set.parquet",
        predictions=it / "predictions.parquet",
        query=it / "query.parquet",
        out=it / "performance.json",
        settings=of("evaluate"),
        training_report=it / "training.json",
        truth=survey / "truth.parquet",
    )
    assert performance["training_set_size"] == 60 and "truth" in performance
    assert performance["catalogue"]["sample"]["size"] == 16
    record = write_record(
        iteration=0,
        config=cfg.resolve({"query": {"seed": 5}}),
        inputs={"store": pool / "window.zarr"},
        products={"query": it / "query.parquet"},
        training_report=it / "training.json",
        repository=REPO,
        out=it / "provenance.json",
    )
    assert record["seeds"]["query batch of this iteration"] == 5
    assert set(record["products"]) == {"query"}

    scores = tmp_path / "anomaly_scores.parquet"
    anomaly = ["query.batch_size=5", "anomaly.candidates=20"]
    found = detect(features=pool / "features.zarr", out=scores, settings=of("detect"))
    assert found["spectra"] == 240
    relevance = answers.assign(label=answers["label"].map({"other": "0"}).fillna("5"))
    relevance.to_parquet(tmp_path / "relevance.parquet")
    ranked = rank_pool(
        features=pool / "features.zarr",
        scores=scores,
        training_set=tmp_path / "relevance.parquet",
        out=tmp_path / "ranked.parquet",
        query=tmp_path / "asked.parquet",
        candidates=tmp_path / "top.parquet",
        report=tmp_path / "forest.json",
        settings=of("rank", *anomaly),
    )
    assert ranked["labels"] == 60 and ranked["asked"] == 5
    pd.DataFrame(
        {"id": pd.read_parquet(tmp_path / "asked.parquet")["id"], "label": "3"}
    ).to_parquet(tmp_path / "relevance_answers.parquet")
    ranking = evaluate_ranking(
        iteration=0,
        scores=scores,
        ranked=tmp_path / "ranked.parquet",
        labels=tmp_path / "relevance_answers.parquet",
        training_set=tmp_path / "relevance.parquet",
        out=tmp_path / "ranking.json",
        settings=of("evaluate-ranking", "anomaly.inliers=[other]"),
        truth=survey / "truth.parquet",
    )
    assert ranking["batch_relevance"]["mean"] == 3 and set(ranking["after"]) == {
        "double_peak",
        "single_peak",
    }


def test_a_labelled_set_from_another_instrument_as_functions(tmp_path):
    external = write_survey(
        out=tmp_path / "ondrejov", settings=of("simulate", "simulate.n_spectra=20"), external=True
    )
    kept = transfer_set(
        files=[tmp_path / "ondrejov" / "spectra"],
        labels=tmp_path / "ondrejov" / "truth.parquet",
        out=tmp_path / "window.zarr",
        labels_out=tmp_path / "labels.parquet",
        settings=of("transfer"),
    )
    assert len(kept) == len(external) == 20 and "absorption" not in set(kept["label"])
