# Evaluation (alspec.evaluation): per iteration the answers' verdict on the candidates
# (classification) or on the ranking (anomaly mode), the config it ran with, and what
# it was made from.


if ANOMALY:

    rule evaluate:
        input:
            unpack(truth_input("evaluation")),
            scores=f"{POOL}/{ANOMALY_SCORES}",
            ranked=f"{ITERATION}/{PREDICTIONS}",
            labels=f"{ITERATION}/{ANSWERS}",
            training_set=f"{ITERATION}/{TRAINING_SET}",
        output:
            f"{ITERATION}/{PERFORMANCE}",
        params:
            truth=truth_option,
            settings=step_settings("evaluate-ranking"),
        log:
            log_file("evaluate", "{n}"),
        resources:
            **CPU_JOB,
        conda:
            ENV
        shell:
            "alspec evaluate-ranking --iteration {wildcards.n} --scores {input.scores}"
            " --ranked {input.ranked} --labels {input.labels} --training-set {input.training_set}"
            " {params.truth} --out {output} --settings {params.settings:q} 2>&1 | tee {log}"

else:

    rule evaluate:
        input:
            unpack(truth_input("evaluation")),
            unpack(held_out_input),
            unpack(previous_performance),
            labels=f"{ITERATION}/{ANSWERS}",
            training_report=f"{ITERATION}/{TRAINING_REPORT}",
            training_set=f"{ITERATION}/{TRAINING_SET}",
            predictions=f"{ITERATION}/{PREDICTIONS}",
            query=f"{ITERATION}/{QUERY}",
        output:
            f"{ITERATION}/{PERFORMANCE}",
        params:
            truth=truth_option,
            held_out=held_out_option,
            previous=lambda wildcards, input: (
                f"--previous {input.previous}" if "previous" in input.keys() else ""
            ),
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
            " --query {input.query} --training-report {input.training_report}"
            " {params.truth} {params.held_out} {params.previous} --out {output}"
            " --settings {params.settings:q}"
            " 2>&1 | tee {log}"


rule iteration_config:
    output:
        f"{ITERATION}/{ITERATION_CONFIG}",
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
        training_set=f"{ITERATION}/{TRAINING_SET}",
        training_report=f"{ITERATION}/{TRAINING_REPORT}",
        predictions=f"{ITERATION}/{PREDICTIONS}",
        query=f"{ITERATION}/{QUERY}",
        candidates=f"{ITERATION}/{CANDIDATES}",
        labels=f"{ITERATION}/{ANSWERS}",
    output:
        f"{ITERATION}/{PROVENANCE}",
    params:
        settings=json.dumps(config, sort_keys=True),
        extra=lambda wildcards, input: " ".join(
            f"--input {name}={input[name]}"
            for name in ("held_out", "anomaly_scores", "requested")
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
