# Paths and input functions shared by the rules. Functions only, no rules.
import glob
import json

# Light modules only (standard library, yaml, jsonschema): this process builds the DAG.
# Every path and file name is alspec.layout's.
from alspec.config.checks import check_consistency
from alspec.config.settings import as_json
from alspec.layout import (
    ANOMALY_SCORES,
    ANSWERS,
    BATCH,
    CANDIDATES,
    CATALOG,
    CATALOGUE,
    CATALOGUE_FILES,
    CATALOGUE_FOLDER,
    CHECKPOINTS,
    COLD_START,
    COLD_START_BATCH,
    EXTERNAL,
    FEATURES,
    ITERATION,
    ITERATION_CONFIG,
    ITERATIONS,
    LABEL_CATALOGUE,
    MODEL,
    NEIGHBOURS,
    PERFORMANCE,
    POOL,
    PREDICTION_PARTS,
    PREDICTIONS,
    PROVENANCE,
    QUARANTINE,
    QUERY,
    RECEIPT,
    REPORT,
    REPORT_FILES,
    REQUESTS,
    SHARD_LISTS,
    SHARDS,
    SPECTRA,
    STORE_FILES,
    SURVEY,
    TRAINING_REPORT,
    TRAINING_SET,
    TRUTH,
    WINDOW,
    log_file,
)
from alspec.learning.learners import learner
from alspec.runtime.placement import job_resources, slurm_placement

check_consistency(config)

ENV = "../../envs/pipeline.yaml"


wildcard_constraints:
    n=r"\d+",
    part=r"\d+",
    shard=r"\d{5}",
    batch=rf"{COLD_START_BATCH}|iterations/\d+",


def listed_files(files):
    """Spectrum files as inputs: a glob is expanded, a directory or list of paths is one."""
    return sorted(glob.glob(files)) if glob.has_magic(files) else files


def pool_files(wildcards):
    return listed_files(config["pool"]["files"])


def external_files(wildcards):
    return listed_files(config["initial"]["external"]["files"])


def chosen_ids(wildcards):
    """The user's list of ids for the first batch, where initial.source is chosen."""
    initial = config["initial"]
    return {"ids": initial["ids"]} if initial["source"] == "chosen" else {}


# Anomaly mode (seed 004) answers relevance levels "0".."5" instead of classes, and
# ranks the pool's features instead of classifying it (workflow/rules/anomaly.smk).
ANOMALY = config["mode"] == "anomaly"
# What the detector reads: the features store, or the pool's raw values (its directory;
# then the features step, which measures spectral lines, is not run at all).
# ANOMALY_FEATURES is the rules' input, the store or the pool's catalogue; what
# `alspec detect/rank --features` is given (detector_reads), the store or the pool folder.
RAW_VALUES = ANOMALY and config["anomaly"]["features"] == "raw"
ANOMALY_FEATURES = f"{POOL}/{CATALOG}" if RAW_VALUES else f"{POOL}/{FEATURES}"


def detector_reads(wildcards, input):
    """`--features` of `alspec detect` and `rank`: the features store they are given, or
    the folder of the pool's catalogue."""
    return os.path.dirname(input[0]) if RAW_VALUES else input[0]

LEARNER = learner(config["model"]["type"])  # what the model reads, how it is saved
MODEL_FILE = f"{ITERATION}/{MODEL}{LEARNER.suffix}"
PREDICT_PARTS = range(config["model"]["predict_jobs"])


def step_settings(step):
    """The config keys `step` reads, as the JSON its --settings takes (alspec.config.settings):
    a rule's params, so that changing one reruns exactly the steps that read it."""
    return as_json(config, step)



# Where each step's Slurm job runs (config slurm, or $ALSPEC_SLURM_*); rules take
# **CPU_JOB or **gpu_job(step) as resources; other executors ignore them.
PLACEMENT = slurm_placement(config["slurm"], os.environ)
CPU_JOB = job_resources(PLACEMENT)


def gpu_job(step):
    """A step of a model that runs on GPUs (the CNN) asks for config slurm.gpus[step]."""
    gpus = LEARNER.gpu and not ANOMALY
    return job_resources(PLACEMENT, config["slurm"]["gpus"][step] if gpus else 0)


def model_inputs(wildcards):
    """What the model reads: the pool's store of its learner (the CNN also an external
    set's windows, for training), anomaly mode what its detector reads."""
    if ANOMALY:
        return [ANOMALY_FEATURES]
    external = config["initial"]["source"] == "external"  # only with the CNN (config checks)
    return [f"{POOL}/{STORE_FILES[LEARNER.store]}"] + ([f"{EXTERNAL}/{WINDOW}"] if external else [])


DISCOVERY = config["query"]["discovery"]


def discovery_inputs(wildcards):
    """What discovery's sources read: the features store, the detector's scores."""
    if not DISCOVERY["sources"]:
        return {}
    inputs = {"features": f"{POOL}/{FEATURES}"}
    if "anomaly" in DISCOVERY["sources"]:
        inputs["anomaly_scores"] = f"{POOL}/{ANOMALY_SCORES}"
    return inputs


def held_out_input(wildcards):
    held_out = config["evaluation"]["held_out"]
    return {"held_out": held_out} if held_out else {}


def requested_input(wildcards):
    """The spectra a user asked for in alspec explore for this iteration's batch, if any:
    an input like any other, so that a rerun asks the same."""
    path = f"{ITERATIONS}/{wildcards.n}/{REQUESTS}"
    return {"requested": path} if os.path.exists(path) else {}


def provenance_inputs(wildcards):
    """Inputs a provenance record names beside the model's store and training set: the
    held-out set, the spectra a user requested, and the detector's scores that anomaly
    mode's ranking starts from or that discovery's anomaly source asked by."""
    extra = held_out_input(wildcards) | requested_input(wildcards)
    if ANOMALY or "anomaly_scores" in discovery_inputs(wildcards):
        extra["anomaly_scores"] = f"{POOL}/{ANOMALY_SCORES}"
    return extra


def held_out_option(wildcards, input):
    return f"--held-out {input.held_out}" if "held_out" in input.keys() else ""


def shard_folders(wildcards):
    """One folder per shard list, known once the shard_lists checkpoint has run."""
    lists = checkpoints.shard_lists.get().output[0]
    shards = glob_wildcards(os.path.join(lists, "{shard}.txt")).shard
    return expand(f"{POOL}/{SHARDS}/{{shard}}", shard=sorted(shards))


def training_set_inputs(wildcards):
    """Label tables, oldest first: iteration n trains on n-1's set plus n-1's answers."""
    n = int(wildcards.n)
    if n > 0:
        return [
            f"{ITERATIONS}/{n - 1}/{TRAINING_SET}",
            f"{ITERATIONS}/{n - 1}/{ANSWERS}",
        ]
    if ANOMALY:
        return []  # the detector's ranking asks first
    if config["initial"]["source"] == "labelled":
        return [config["initial"]["labelled_set"]]
    if config["initial"]["source"] == "external":
        return [f"{EXTERNAL}/{ANSWERS}"]
    return [f"{COLD_START}/{ANSWERS}"]


def previous_performance(wildcards):
    """Iteration n's estimates average the pool's objects of interest with n-1's."""
    n = int(wildcards.n)
    return {"previous": f"{ITERATIONS}/{n - 1}/{PERFORMANCE}"} if n > 0 else {}


def warm_start_input(wildcards):
    """With model.warm_start, iteration n's CNN starts from iteration n-1's model."""
    n = int(wildcards.n)
    if config["model"]["warm_start"] and n > 0:
        return {"warm_start": MODEL_FILE.format(n=n - 1)}
    return {}


def warm_start_option(wildcards, input):
    return f"--warm-start {input.warm_start}" if "warm_start" in input.keys() else ""


def truth_input(key):
    """The truth table as an input where config names one (a rule may then build it)."""
    section = config[key]

    def inputs(wildcards):
        return {"truth": section["truth"]} if section.get("truth") else {}

    return inputs


def truth_option(wildcards, input):
    return f"--truth {input.truth}" if "truth" in input.keys() else ""


# The report of each iteration: its figures are flagged for Snakemake's
# report, one category per iteration; captions in workflow/report/<figure>.rst.


def figure_outputs():
    """Each figure of an iteration's report (named as in alspec.layout), with its caption."""
    outputs = {}
    for name in REPORT_FILES[config["mode"]]:
        stem = name.split(".")[0]
        outputs[stem] = report(
            f"{ITERATION}/{REPORT}/{name}",
            caption=f"../report/{stem}.rst",
            category="Iteration {n}",
            labels={"iteration": "{n}", "figure": stem.replace("_", " ")},
        )
    return outputs


def report_inputs(wildcards):
    """What an iteration's report reads: its files, the performance and candidates of the
    iterations before it, the previous predictions, and the pool's stores it draws from."""
    n = int(wildcards.n)
    inputs = {
        "performance": [f"{ITERATIONS}/{i}/{PERFORMANCE}" for i in range(n + 1)],
        "candidates": [f"{ITERATIONS}/{i}/{CANDIDATES}" for i in range(n + 1)],
        "predictions": [f"{ITERATIONS}/{i}/{PREDICTIONS}" for i in range(max(n - 1, 0), n + 1)],
        "catalog": f"{POOL}/{CATALOG}",
    }
    if not ANOMALY:
        inputs["window"] = f"{POOL}/{WINDOW}"
    if not RAW_VALUES:
        inputs["features"] = f"{POOL}/{FEATURES}"
    return inputs


# The candidate catalogue of an iteration's folder (rules catalogue and handover).
LAST_ITERATION = config["iterations"] - 1


def catalogue_inputs(folder):
    """What the catalogue of the iteration in `folder` is made from."""
    return {
        "candidates": f"{folder}/{CANDIDATES}",
        "training_set": f"{folder}/{TRAINING_SET}",
        "labels": f"{folder}/{ANSWERS}",
        "catalog": f"{POOL}/{CATALOG}",
        "performance": f"{folder}/{PERFORMANCE}",
        "provenance": f"{folder}/{PROVENANCE}",
        "crossmatch": [entry["path"] for entry in config["crossmatch"]],
    }
