# Anomaly mode (seed 004, Astronomaly): a detector scores the pool once (rule detect,
# features.smk); per iteration the expert's relevance answers so far re-rank it (eq. 1-3),
# the top not yet answered is asked, and the ranking is scored against the truth where
# there is one.


rule rank:
    input:
        features=ANOMALY_FEATURES,
        scores=f"{POOL}/anomaly_scores.parquet",
        training_set=f"{ITERATION}/training_set.parquet",
    output:
        ranked=f"{ITERATION}/predictions.parquet",
        query=f"{ITERATION}/query.parquet",
        candidates=f"{ITERATION}/candidates.parquet",
        report=f"{ITERATION}/training.json",
    params:
        features=DETECTOR_READS,
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


rule evaluate:
    input:
        unpack(truth_input("evaluation")),
        scores=f"{POOL}/anomaly_scores.parquet",
        ranked=f"{ITERATION}/predictions.parquet",
        labels=f"{ITERATION}/labels.parquet",
        training_set=f"{ITERATION}/training_set.parquet",
    output:
        f"{ITERATION}/performance.json",
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
