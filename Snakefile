"""alspec: active deep learning to find rare objects in surveys of spectra.

    snakemake --profile profiles/default                  # iterations 0 .. iterations-1, evaluated
    snakemake results/iterations/3/query.parquet ...      # iterations 0 to 3 and nothing more

config `mode` picks classification (seeds 001-003) or anomaly ranking (seed 004).

Rules hold the wiring; every step is one `alspec <step>` command (see `alspec --help`).
"""

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


# One file per stage, as the package: workflow/rules/<stage>.smk runs alspec.<stage>.steps.
include: "workflow/rules/common.smk"
include: "workflow/rules/survey.smk"
include: "workflow/rules/pool.smk"
include: "workflow/rules/features.smk"
include: "workflow/rules/anomaly.smk"
include: "workflow/rules/oracles.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/report.smk"


if not ANOMALY:  # classification mode: a model learns classes and is asked about them

    include: "workflow/rules/query.smk"
    include: "workflow/rules/learning.smk"
    include: "workflow/rules/handover.smk"


report: "workflow/report/workflow.rst"


rule all:
    input:
        expand(
            f"{ITERATION}/{{output}}",
            n=range(config["iterations"]),
            output=[PERFORMANCE, ITERATION_CONFIG, PROVENANCE],
        ),
        expand(f"{ITERATION}/{REPORT}/{{name}}", n=range(config["iterations"]), name=REPORT_FILES[config["mode"]]),
        [] if RAW_VALUES else [f"{POOL}/{FEATURES}", f"{POOL}/{NEIGHBOURS}"],
        [] if ANOMALY else expand(f"{ITERATION}/{CATALOGUE_FOLDER}/{{name}}", n=range(config["iterations"]), name=CATALOGUE_FILES.values()),
        [] if ANOMALY else expand(f"{CATALOGUE}/{{name}}", name=CATALOGUE_FILES.values()),
    default_target: True
