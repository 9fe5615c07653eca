rule iteration_config:
    output:
        f"{ITERATION}/config.yaml",
    params:
        settings=json.dumps(config, sort_keys=True),
    log:
        log_file("iteration_config", "{n}"),
    conda:
        ENV
    shell:
        "alspec config --json {params.settings:q} --out {output} > {log} 2>&1"


rule provenance:
    input:
        unpack(provenance_inputs),
        store=lambda wildcards: model_inputs(wildcards)[0],
        training_set=f"{ITERATION}/training_set.parquet",
        training_report=f"{ITERATION}/training.json",
        predictions=f"{ITERATION}/predictions.parquet",
        query=f"{ITERATION}/query.parquet",
        candidates=f"{ITERATION}/candidates.parquet",
        labels=f"{ITERATION}/labels.parquet",
    output:
        f"{ITERATION}/provenance.json",
    params:
        settings=json.dumps(config, sort_keys=True),
        extra=lambda wildcards, input: " ".join(
            f"--input {name}={input[name]}"
            for name in ("held_out", "anomaly_scores")
            if name in input.keys()
        ),
        repository=workflow.basedir,
    log:
        log_file("provenance", "{n}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec provenance --iteration {wildcards.n} --config-json {params.settings:q}"
        " --input store={input.store}"
        " --input training_set={input.training_set} {params.extra}"
        " --product predictions={input.predictions} --product query={input.query}"
        " --product candidates={input.candidates} --product labels={input.labels}"
        " --training-report {input.training_report} --repository {params.repository:q}"
        " --out {output} > {log} 2>&1"
