# Classification mode (seeds 001-003): a cold start, then per iteration train, classify
# the pool in parts, gather, ask the most uncertain, evaluate against the answers.


rule cold_start:
    input:
        unpack(chosen_ids),
        unpack(held_out_input),
        window=f"{POOL}/window.zarr",
    output:
        f"{COLD_START}/query.parquet",
    params:
        ids=lambda wildcards, input: f"--ids {input.ids}" if "ids" in input.keys() else "",
        held_out=held_out_option,
        settings=step_settings("cold-start"),
    log:
        log_file("cold_start"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec cold-start --window {input.window} {params.ids} {params.held_out} --out {output}"
        " --settings {params.settings:q} > {log} 2>&1"


rule transfer:
    input:
        files=external_files,
        labels=config["initial"]["external"]["labels"] or [],
    output:
        window=directory(f"{EXTERNAL}/window.zarr"),
        labels=f"{EXTERNAL}/labels.parquet",
    params:
        settings=step_settings("transfer"),
    log:
        log_file("transfer"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec transfer {input.files:q} --labels {input.labels} --out {output.window}"
        " --labels-out {output.labels} --settings {params.settings:q} > {log} 2>&1"


rule train:
    input:
        unpack(warm_start_input),
        inputs=model_inputs,
        training_set=f"{ITERATION}/training_set.parquet",
    output:
        model=MODEL,
        checkpoints=directory(f"{ITERATION}/checkpoints"),
        report=f"{ITERATION}/training.json",
    params:
        warm_start=warm_start_option,
        settings=step_settings("train"),
    log:
        log_file("train", "{n}"),
    resources:
        **gpu_job("train"),
    threads: 2
    conda:
        ENV
    shell:
        "alspec train --inputs {input.inputs:q} --training-set {input.training_set}"
        " --iteration {wildcards.n} --model {output.model} --checkpoints {output.checkpoints}"
        " --report {output.report} {params.warm_start} --threads {threads}"
        " --settings {params.settings:q} > {log} 2>&1"


rule predict:
    input:
        inputs=lambda wildcards: model_inputs(wildcards)[0],
        model=MODEL,
        training_report=f"{ITERATION}/training.json",
    output:
        temp(f"{ITERATION}/predictions/{{part}}.parquet"),
    params:
        settings=step_settings("predict"),
    log:
        log_file("predict", "{n}-{part}"),
    resources:
        **gpu_job("predict"),
    threads: 2
    conda:
        ENV
    shell:
        "alspec predict --inputs {input.inputs} --model {input.model}"
        " --training-report {input.training_report} --part {wildcards.part} --out {output}"
        " --threads {threads} --settings {params.settings:q} > {log} 2>&1"


rule gather_predictions:
    input:
        expand(f"{ITERATION}/predictions/{{part}}.parquet", part=PREDICT_PARTS, allow_missing=True),
    output:
        f"{ITERATION}/predictions.parquet",
    log:
        log_file("gather_predictions", "{n}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec gather-predictions {input:q} --out {output} > {log} 2>&1"


rule query:
    input:
        unpack(held_out_input),
        unpack(discovery_inputs),
        predictions=f"{ITERATION}/predictions.parquet",
        training_set=f"{ITERATION}/training_set.parquet",
        window=f"{POOL}/window.zarr",
    output:
        query=f"{ITERATION}/query.parquet",
        candidates=f"{ITERATION}/candidates.parquet",
    params:
        stores=lambda wildcards, input: " ".join(
            f"--{name.replace('_', '-')} {input[name]}"
            for name in ("held_out", "features", "anomaly_scores")
            if name in input.keys()
        ),
        settings=step_settings("query"),
    log:
        log_file("query", "{n}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec query --predictions {input.predictions} --training-set {input.training_set}"
        " --iteration {wildcards.n} --window {input.window} {params.stores}"
        " --out {output.query} --candidates {output.candidates}"
        " --settings {params.settings:q} > {log} 2>&1"


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
        truth=truth_option,
        held_out=held_out_option,
        settings=step_settings("evaluate"),
    log:
        log_file("evaluate", "{n}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec evaluate --iteration {wildcards.n} --labels {input.labels}"
        " --training-set {input.training_set} --predictions {input.predictions}"
        " --candidates {input.candidates} --training-report {input.training_report}"
        " {params.truth} {params.held_out} --out {output} --settings {params.settings:q}"
        " 2>&1 | tee {log}"
