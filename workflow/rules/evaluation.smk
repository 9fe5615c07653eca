rule evaluate:
    input:
        unpack(truth_input("evaluation")),
        labels=f"{ITERATION}/labels.parquet",
        training_set=f"{ITERATION}/training_set.parquet",
        predictions=f"{ITERATION}/predictions.parquet",
        candidates=f"{ITERATION}/candidates.parquet",
    output:
        f"{ITERATION}/performance.json",
    params:
        classes=config["classes"],
        interest=config["classes_of_interest"],
        confidence=config["evaluation"]["confidence"],
        truth=truth_option,
    log:
        "results/logs/evaluate/{n}.log",
    conda:
        ENV
    shell:
        "alspec evaluate --iteration {wildcards.n} --labels {input.labels}"
        " --training-set {input.training_set} --predictions {input.predictions}"
        " --candidates {input.candidates} --classes {params.classes}"
        " --classes-of-interest {params.interest} --confidence {params.confidence}"
        " {params.truth} --out {output} 2>&1 | tee {log}"


rule iteration_config:
    output:
        f"{ITERATION}/config.yaml",
    params:
        settings=json.dumps(config, sort_keys=True),
    log:
        "results/logs/iteration_config/{n}.log",
    conda:
        ENV
    shell:
        "alspec config --json {params.settings:q} --out {output} > {log} 2>&1"
