rule cold_start:
    input:
        unpack(chosen_ids),
        window=f"{POOL}/window.zarr",
    output:
        "results/cold_start/query.parquet",
    params:
        size=config["initial"]["size"],
        seed=config["initial"]["seed"],
        ids=lambda wildcards, input: f"--ids {input.ids}" if "ids" in input.keys() else "",
    log:
        "results/logs/cold_start.log",
    conda:
        ENV
    shell:
        "alspec cold-start --window {input.window} --size {params.size} --seed {params.seed}"
        " {params.ids} --out {output} > {log} 2>&1"


rule transfer:
    input:
        files=external_files,
        labels=config["initial"]["external"]["labels"] or [],
    output:
        window=directory("results/external/window.zarr"),
        labels="results/external/labels.parquet",
    params:
        label_map=" ".join(f"{k}={v}" for k, v in config["initial"]["external"]["label_map"].items()),
        classes=config["classes"],
        resolving_power=config["initial"]["external"]["resolving_power"],
        target=config["pool"]["resolving_power"],
        grid=config["pool"]["grid"],
        window=config["window"],
    log:
        "results/logs/transfer.log",
    conda:
        ENV
    shell:
        "alspec transfer {input.files:q} --labels {input.labels} --label-map {params.label_map}"
        " --classes {params.classes} --resolving-power {params.resolving_power}"
        " --target-resolving-power {params.target}"
        " --grid {params.grid[start]} {params.grid[stop]} {params.grid[log10_step]}"
        " --range {params.window[start]} {params.window[stop]} --points {params.window[points]}"
        " --normalisation {params.window[normalisation]}"
        " --min-coverage {params.window[min_coverage]}"
        " --continuum-segment {params.window[continuum_segment]}"
        " --out {output.window} --labels-out {output.labels} > {log} 2>&1"


rule training_set:
    input:
        training_set_inputs,
    output:
        f"{ITERATION}/training_set.parquet",
    params:
        classes=config["classes"],
    log:
        "results/logs/training_set/{n}.log",
    conda:
        ENV
    shell:
        "alspec training-set {input:q} --classes {params.classes} --out {output} > {log} 2>&1"


rule train:
    input:
        window=training_windows,
        training_set=f"{ITERATION}/training_set.parquet",
    output:
        model=f"{ITERATION}/model.keras",
        report=f"{ITERATION}/training.json",
    params:
        classes=config["classes"],
        architecture=config["model"]["architecture"],
        epochs=config["model"]["epochs"],
        batch_size=config["model"]["batch_size"],
        learning_rate=config["model"]["learning_rate"],
        seed=config["model"]["seed"],
    log:
        "results/logs/train/{n}.log",
    threads: 2
    conda:
        ENV
    shell:
        "alspec train --window {input.window:q} --training-set {input.training_set}"
        " --classes {params.classes} --architecture {params.architecture}"
        " --epochs {params.epochs} --batch-size {params.batch_size}"
        " --learning-rate {params.learning_rate} --seed {params.seed}"
        " --model {output.model} --report {output.report} --threads {threads} > {log} 2>&1"


rule predict:
    input:
        window=f"{POOL}/window.zarr",
        model=f"{ITERATION}/model.keras",
    output:
        f"{ITERATION}/predictions.parquet",
    params:
        classes=config["classes"],
    log:
        "results/logs/predict/{n}.log",
    threads: 2
    conda:
        ENV
    shell:
        "alspec predict --window {input.window} --model {input.model} --classes {params.classes}"
        " --out {output} --threads {threads} > {log} 2>&1"


rule query:
    input:
        predictions=f"{ITERATION}/predictions.parquet",
        training_set=f"{ITERATION}/training_set.parquet",
        window=f"{POOL}/window.zarr",
    output:
        query=f"{ITERATION}/query.parquet",
        candidates=f"{ITERATION}/candidates.parquet",
    params:
        interest=config["classes_of_interest"],
        classes=config["classes"],
        strategy=config["query"]["strategy"],
        diversity=lambda wildcards, input: (
            f"--diverse-from {input.window}"
            f" --shortlist {config['query']['diversity']['shortlist']}"
            if config["query"]["diversity"]["enabled"]
            else ""
        ),
        batch_size=config["query"]["batch_size"],
        random_sample_size=config["query"]["random_sample_size"],
        seed=lambda wildcards: config["query"]["seed"] + int(wildcards.n),
    log:
        "results/logs/query/{n}.log",
    conda:
        ENV
    shell:
        "alspec query --predictions {input.predictions} --training-set {input.training_set}"
        " --classes-of-interest {params.interest} --classes {params.classes}"
        " --strategy {params.strategy} {params.diversity} --batch-size {params.batch_size}"
        " --random-sample-size {params.random_sample_size} --seed {params.seed}"
        " --out {output.query} --candidates {output.candidates} > {log} 2>&1"
