"""The results/ folder, named once: the rules write there, `alspec watch` and the reports
read it. Paths are relative to the folder Snakemake runs in; `{n}` and `{batch}` are the
rules' wildcards.

    results/survey/           a simulated survey: spectra/ and truth.parquet
    results/pool/             the pool: catalogue, shards, window.zarr, features.zarr,
                              anomaly scores, and every answer (labels.parquet)
    results/external/         an external labelled set (initial.source: external)
    results/cold_start/       the first batch asked
    results/iterations/<n>/   one iteration: model, predictions, query, answers, report/,
                              catalogue/
    results/catalogue/        the last iteration's candidate catalogue: what is handed over
    results/logs/<step>/      one log per job
    results/explorer/         the explorer's secret (alspec explore)

Light on purpose (standard library only): the Snakefile imports it to build the DAG.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = "results"
SURVEY = f"{RESULTS}/survey"
POOL = f"{RESULTS}/pool"
EXTERNAL = f"{RESULTS}/external"
COLD_START_BATCH = "cold_start"  # the first batch's name; later ones are iterations/<n>
COLD_START = f"{RESULTS}/{COLD_START_BATCH}"
ITERATIONS = f"{RESULTS}/iterations"
ITERATION = ITERATIONS + "/{n}"
BATCH = RESULTS + "/{batch}"  # cold_start or iterations/<n>: a batch the oracle answers
LOGS = f"{RESULTS}/logs"
# Snakemake marks a finished directory output (a Zarr store) with this empty file
SNAKEMAKE_MARKER = ".snakemake_timestamp"
CATALOGUE = f"{RESULTS}/catalogue"  # the last iteration's candidate catalogue
EXPLORER = f"{RESULTS}/explorer"  # the explorer's secret, readable by its owner alone

# A simulated survey's files (results/survey, results/external's source)
SPECTRA = "spectra"  # the folder of spectrum files
TRUTH = "truth.parquet"  # id, label: what the simulated oracle answers

# The pool's files (results/pool)
SHARDS = "shards"  # one folder per shard: spectra.zarr, catalog/, quarantine.parquet
SHARD_LISTS = f"{SHARDS}/lists"  # one list of files per shard: <shard>.txt
SHARD_STORE = "spectra.zarr"  # a shard's spectra
SHARD_CATALOG = "catalog"  # a shard's catalogue: one Parquet part per block of spectra
CATALOG = "catalog.parquet"  # one row per spectrum: id, position, metadata, where it is
QUARANTINE = "quarantine.parquet"  # what could not be ingested, and why
WINDOW = "window.zarr"  # the window the CNN reads (also an external set's)
FEATURES = "features.zarr"  # PCA scores, line measurements, the map
NEIGHBOURS = "neighbours.zarr"  # each spectrum's nearest in the features: "more like this"
ANOMALY_SCORES = "anomaly_scores.parquet"  # the detector's score of every spectrum
LABEL_CATALOGUE = "labels.parquet"  # every answer of every session, never rewritten
STORE_FILES = {"window": WINDOW, "features": FEATURES}  # by what a model reads (Learner.store)

# A batch's files (cold_start/, iterations/<n>/)
REQUESTS = "requested.parquet"  # spectra a user asked for in the explorer, asked first
QUERY = "query.parquet"  # the spectra asked
RECEIPT = "batch.json"  # a batch was sent to the oracle
ANSWERS = "labels.parquet"  # ... and answered

# An iteration's files besides its batch's (iterations/<n>/)
TRAINING_SET = "training_set.parquet"  # every answer before this iteration's batch
MODEL = "model"  # model.keras or model.joblib: the learner's suffix
CHECKPOINTS = "checkpoints"
TRAINING_REPORT = "training.json"
PREDICTIONS = "predictions.parquet"
PREDICTION_PARTS = "predictions"  # one table per predict job: <part>.parquet
CANDIDATES = "candidates.parquet"
PERFORMANCE = "performance.json"
PROVENANCE = "provenance.json"
ITERATION_CONFIG = "config.yaml"  # the resolved config the iteration ran with
ITERATION_RECORDS = (PERFORMANCE, PROVENANCE)  # what makes an iteration done

# An iteration's candidate catalogue (alspec.handover.catalogue), in
# iterations/<n>/catalogue/ (CATALOGUE_FOLDER), and the last one in results/catalogue/
CATALOGUE_FOLDER = "catalogue"
CATALOGUE_FILES = {"votable": "candidates.vot", "fits": "candidates.fits", "csv": "candidates.csv"}
HANDED_OVER = f"{CATALOGUE}/{CATALOGUE_FILES['votable']}"  # what `alspec samp` sends

# An iteration's report (alspec.report): results/iterations/<n>/report/<file>, each with a
# caption workflow/report/<stem>.rst in Snakemake's report.
REPORT = "report"
REPORT_FILES = {
    "classification": (
        "learning_curve.png", "map.png", "gallery.png", "batch.html", "confusion.png",
        "stopping.png",
    ),
    "anomaly": (
        "learning_curve.png", "map.png", "gallery.png", "batch.html", "relevance.png",
        "stopping.png",
    ),
}  # fmt: skip


def log_file(step: str, name: str | None = None) -> str:
    """The log of one job of `step`: logs/<step>.log, or logs/<step>/<name>.log for a step
    that runs once per wildcard value (`name` a pattern such as "{n}")."""
    return f"{LOGS}/{step}.log" if name is None else f"{LOGS}/{step}/{name}.log"


def under(results: Path, path: str) -> Path:
    """A folder of the layout (e.g. COLD_START) in a results folder found elsewhere."""
    return Path(results) / Path(path).relative_to(RESULTS)


def iteration_folders(results: Path, record: str = PERFORMANCE) -> list[Path]:
    """The iteration folders under `results` that hold `record`, oldest first."""
    paths = under(results, ITERATIONS).glob(f"*/{record}")
    return sorted((p.parent for p in paths if p.parent.name.isdigit()), key=lambda p: int(p.name))


def iteration_targets(n: int) -> list[str]:
    """What Snakemake is asked for to finish iteration `n` and send iteration n+1's batch."""
    done = [f"{ITERATIONS}/{n}/{name}" for name in ITERATION_RECORDS if n >= 0]
    return [*done, f"{ITERATIONS}/{n + 1}/{RECEIPT}"]
