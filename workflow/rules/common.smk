# Paths and input functions shared by the rules. Functions only, no rules.
import glob
import json
import shlex

# Light modules only (standard library, yaml, jsonschema): this process builds the DAG.
from alspec.config import check_consistency, relevance_levels
from alspec.layout import BATCH, COLD_START, EXTERNAL, ITERATION, ITERATIONS, POOL, SURVEY, log_file
from alspec.placement import job_resources, slurm_placement

check_consistency(config)

# The pool's grid as `alspec ingest --grid` takes it: NAME=VALUE of config pool.grid.
GRID = " ".join(f"{k}={v}" for k, v in config["pool"]["grid"].items() if v is not None)
ENV = "../../envs/pipeline.yaml"


wildcard_constraints:
    n=r"\d+",
    part=r"\d+",
    shard=r"\d{5}",
    batch=r"cold_start|iterations/\d+",


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
ANSWERS = (
    relevance_levels(config["anomaly"]["relevance"]["maximum"]) if ANOMALY else config["classes"]
)
# What the detector reads: the features store, or the pool's raw values (its directory;
# then the features step, which measures spectral lines, is not run at all).
# ANOMALY_FEATURES is the rules' input, the store or the pool's catalogue; DETECTOR_READS
# what `alspec detect/rank --features` is given, the store or the pool directory.
RAW_VALUES = ANOMALY and config["anomaly"]["features"] == "raw"
ANOMALY_FEATURES = f"{POOL}/catalog.parquet" if RAW_VALUES else f"{POOL}/features.zarr"
DETECTOR_READS = POOL if RAW_VALUES else ANOMALY_FEATURES


def detector_reads(wildcards, input):
    """`--features` of `alspec detect`: the features store it is given, or the pool."""
    return POOL if RAW_VALUES else input[0]

CNN = config["model"]["type"] == "cnn" and not ANOMALY
MODEL = f"{ITERATION}/model.{'keras' if CNN else 'joblib'}"
COMMITTEE = config["query"]["strategy"] in ("vote_entropy", "kl_divergence", "bald")
PREDICT_PARTS = range(config["model"]["predict_jobs"])


# Where each step's Slurm job runs (config slurm, or $ALSPEC_SLURM_*); rules take
# **CPU_JOB or **gpu_job(step) as resources; other executors ignore them.
PLACEMENT = slurm_placement(config["slurm"], os.environ)
CPU_JOB = job_resources(PLACEMENT)


def gpu_job(step):
    """A step of the CNN asks for config slurm.gpus[step] GPUs; scikit-learn models none."""
    return job_resources(PLACEMENT, config["slurm"]["gpus"][step] if CNN else 0)


def model_inputs(wildcards):
    """What the model reads: the CNN the pool's windows (and an external set's, for
    training), a scikit-learn model the pool's features, anomaly mode what its detector
    reads."""
    if ANOMALY:
        return [ANOMALY_FEATURES]
    if not CNN:
        return [f"{POOL}/features.zarr"]
    external = config["initial"]["source"] == "external"
    return [f"{POOL}/window.zarr"] + ([f"{EXTERNAL}/window.zarr"] if external else [])


def committee_option(wildcards):
    """How the committee of a committee strategy is formed, as `alspec` options."""
    if not COMMITTEE:
        return ""
    committee = config["query"]["committee"]
    if CNN:
        return f"--committee-members {committee['members']}"
    return "--committee-models " + " ".join(committee["models"])


def query_seed(wildcards):
    """Each iteration draws its batch's random sample with its own seed."""
    return config["query"]["seed"] + int(wildcards.n)


DISCOVERY = config["query"]["discovery"]


def discovery_inputs(wildcards):
    """What discovery's sources read: the features store, the detector's scores."""
    if not DISCOVERY["sources"]:
        return {}
    inputs = {"features": f"{POOL}/features.zarr"}
    if "anomaly" in DISCOVERY["sources"]:
        inputs["anomaly_scores"] = f"{POOL}/anomaly_scores.parquet"
    return inputs


def discovery_options(wildcards, input):
    """config query.discovery as `alspec query` options."""
    if not DISCOVERY["sources"]:
        return ""
    options = [
        "--discovery-sources " + " ".join(DISCOVERY["sources"]),
        f"--features {input.features}",
        f"--min-examples {DISCOVERY['min_examples']} --max-share {DISCOVERY['max_share']}",
    ]
    if "anomaly_scores" in input.keys():
        options.append(f"--anomaly-scores {input.anomaly_scores}")
    if DISCOVERY["prior"]:
        options.append("--prior {feature} {line} {order}".format(**DISCOVERY["prior"]))
    return " ".join(options)


def held_out_input(wildcards):
    held_out = config["evaluation"]["held_out"]
    return {"held_out": held_out} if held_out else {}


def provenance_inputs(wildcards):
    """Inputs a provenance record names beside the model's store and training set: the
    held-out set, and the detector's scores that anomaly mode's ranking starts from or
    that discovery's anomaly source asked by."""
    extra = held_out_input(wildcards)
    if ANOMALY or "anomaly_scores" in discovery_inputs(wildcards):
        extra["anomaly_scores"] = f"{POOL}/anomaly_scores.parquet"
    return extra


def held_out_option(wildcards, input):
    return f"--held-out {input.held_out}" if "held_out" in input.keys() else ""


def shard_folders(wildcards):
    """One folder per shard list, known once the shard_lists checkpoint has run."""
    lists = checkpoints.shard_lists.get().output[0]
    shards = glob_wildcards(os.path.join(lists, "{shard}.txt")).shard
    return expand(f"{POOL}/shards/{{shard}}", shard=sorted(shards))


def training_set_inputs(wildcards):
    """Label tables, oldest first: iteration n trains on n-1's set plus n-1's answers."""
    n = int(wildcards.n)
    if n > 0:
        return [
            f"{ITERATIONS}/{n - 1}/training_set.parquet",
            f"{ITERATIONS}/{n - 1}/labels.parquet",
        ]
    if ANOMALY:
        return []  # the detector's ranking asks first
    if config["initial"]["source"] == "labelled":
        return [config["initial"]["labelled_set"]]
    if config["initial"]["source"] == "external":
        return [f"{EXTERNAL}/labels.parquet"]
    return [f"{COLD_START}/labels.parquet"]


def truth_input(key):
    """The truth table as an input where config names one (a rule may then build it)."""
    section = config[key]

    def inputs(wildcards):
        return {"truth": section["truth"]} if section.get("truth") else {}

    return inputs


def truth_option(wildcards, input):
    return f"--truth {input.truth}" if "truth" in input.keys() else ""


def dask_options(wildcards):
    """Where a Dask step runs (config dask), as `alspec` options."""
    dask = config["dask"]
    workers = dask["slurm"] | {
        "queue": dask["slurm"]["queue"] or PLACEMENT["partition"],
        "account": dask["slurm"]["account"] or PLACEMENT["account"],
    }
    slurm = shlex.quote(json.dumps(workers))
    return f"--scheduler {shlex.quote(dask['scheduler'])} --slurm-options {slurm}"


def line_options(wildcards):
    """config features.lines as `--line NAME CENTRE CORE_LO CORE_HI BLUE.. RED..` options."""
    options = []
    for line in config["features"]["lines"]:
        (blue_low, blue_high), (red_low, red_high) = line["continuum"]
        edges = [line["centre"], *line["core"], blue_low, blue_high, red_low, red_high]
        options.append(" ".join(["--line", line["name"], *map(str, edges)]))
    return " ".join(options)
