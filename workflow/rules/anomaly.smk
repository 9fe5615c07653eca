# Anomaly mode (alspec.anomaly; seed 004, Astronomaly): a detector scores the pool once;
# per iteration the expert's relevance answers so far re-rank it (eq. 1-3) and the top
# not yet answered is asked (rule evaluate scores the ranking: evaluation.smk).


# The anomaly score of every spectrum: anomaly mode ranks by it, and classification
# mode's discovery asks its outliers while a class of interest is scarce.
rule detect:
    input:
        ANOMALY_FEATURES,
    output:
        f"{POOL}/{ANOMALY_SCORES}",
    params:
        features=detector_reads,
        settings=step_settings("detect"),
    log:
        log_file("detect"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec detect --features {params.features} --out {output} --threads {threads}"
        " --settings {params.settings:q} > {log} 2>&1"


if ANOMALY:

    rule rank:
        input:
            features=ANOMALY_FEATURES,
            scores=f"{POOL}/{ANOMALY_SCORES}",
            training_set=f"{ITERATION}/{TRAINING_SET}",
        output:
            ranked=f"{ITERATION}/{PREDICTIONS}",
            query=f"{ITERATION}/{QUERY}",
            candidates=f"{ITERATION}/{CANDIDATES}",
            report=f"{ITERATION}/{TRAINING_REPORT}",
        params:
            features=detector_reads,
            settings=step_settings("rank"),
        log:
            log_file("rank", "{n}"),
        resources:
            **CPU_JOB,
        threads: 2
        conda:
            ENV
        shell:
            "alspec rank --features {params.features} --scores {input.scores}"
            " --training-set {input.training_set} --out {output.ranked} --query {output.query}"
            " --candidates {output.candidates} --report {output.report} --threads {threads}"
            " --settings {params.settings:q} > {log} 2>&1"
