# Paths and input functions shared by the rules. Functions only, no rules.
import glob
import json
import shlex

from alspec.config import check_consistency

check_consistency(config)

POOL = "results/pool"
ITERATION = "results/iterations/{n}"
ENV = "../../envs/pipeline.yaml"


wildcard_constraints:
    n=r"\d+",
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


def training_windows(wildcards):
    """The window stores training reads: the pool's, and the external set's if there is one."""
    external = config["initial"]["source"] == "external"
    return [f"{POOL}/window.zarr"] + (["results/external/window.zarr"] if external else [])


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
            f"results/iterations/{n - 1}/training_set.parquet",
            f"results/iterations/{n - 1}/labels.parquet",
        ]
    if config["initial"]["source"] == "labelled":
        return [config["initial"]["labelled_set"]]
    if config["initial"]["source"] == "external":
        return ["results/external/labels.parquet"]
    return ["results/cold_start/labels.parquet"]


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
    slurm = shlex.quote(json.dumps(dask["slurm"]))
    return f"--scheduler {shlex.quote(dask['scheduler'])} --slurm-options {slurm}"


def line_options(wildcards):
    """config features.lines as `--line NAME CENTRE CORE_LO CORE_HI BLUE.. RED..` options."""
    options = []
    for line in config["features"]["lines"]:
        (blue_low, blue_high), (red_low, red_high) = line["continuum"]
        edges = [line["centre"], *line["core"], blue_low, blue_high, red_low, red_high]
        options.append(" ".join(["--line", line["name"], *map(str, edges)]))
    return " ".join(options)
