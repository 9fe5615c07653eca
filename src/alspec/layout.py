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

Light on purpose (standard library only): the Snakefile imports it to build the DAG.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = "results"
SURVEY = f"{RESULTS}/survey"
POOL = f"{RESULTS}/pool"
EXTERNAL = f"{RESULTS}/external"
COLD_START = f"{RESULTS}/cold_start"
ITERATIONS = f"{RESULTS}/iterations"
ITERATION = ITERATIONS + "/{n}"
BATCH = RESULTS + "/{batch}"  # cold_start or iterations/<n>: a batch the oracle answers
LOGS = f"{RESULTS}/logs"
CATALOGUE = f"{RESULTS}/catalogue"  # the last iteration's candidate catalogue

RECEIPT = "batch.json"  # a batch was sent to the oracle
ANSWERS = "labels.parquet"  # ... and answered
PERFORMANCE = "performance.json"
ITERATION_RECORDS = (PERFORMANCE, "provenance.json")  # what makes an iteration done

# An iteration's candidate catalogue (alspec.catalogue), in iterations/<n>/catalogue/
CATALOGUE_FILES = ("candidates.vot", "candidates.fits", "candidates.csv")

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
