rule evaluate:
    input:
        unpack(truth_input("evaluation")),
        unpack(held_out_input),
        labels=f"{ITERATION}/labels.parquet",
        training_report=f"{ITERATION}/training.json",
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
        held_out=held_out_option,
    log:
        "results/logs/evaluate/{n}.log",
    conda:
        ENV
    shell:
        "alspec evaluate --iteration {wildcards.n} --labels {input.labels}"
        " --training-set {input.training_set} --predictions {input.predictions}"
        " --candidates {input.candidates} --classes {params.classes}"
        " --classes-of-interest {params.interest} --confidence {params.confidence}"
        " --training-report {input.training_report} {params.truth} {params.held_out}"
        " --out {output} 2>&1 | tee {log}"


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
