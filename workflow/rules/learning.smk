# Learning (alspec.learning, classification mode): per iteration train the model on the
# answers so far, classify the pool in parts, gather the parts.


rule train:
    input:
        unpack(warm_start_input),
        inputs=model_inputs,
        training_set=f"{ITERATION}/{TRAINING_SET}",
    output:
        model=MODEL_FILE,
        checkpoints=directory(f"{ITERATION}/{CHECKPOINTS}"),
        report=f"{ITERATION}/{TRAINING_REPORT}",
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
        model=MODEL_FILE,
        training_report=f"{ITERATION}/{TRAINING_REPORT}",
    output:
        temp(f"{ITERATION}/{PREDICTION_PARTS}/{{part}}.parquet"),
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
        expand(
            f"{ITERATION}/{PREDICTION_PARTS}/{{part}}.parquet", part=PREDICT_PARTS, allow_missing=True
        ),
    output:
        f"{ITERATION}/{PREDICTIONS}",
    log:
        log_file("gather_predictions", "{n}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec gather-predictions {input:q} --out {output} > {log} 2>&1"
