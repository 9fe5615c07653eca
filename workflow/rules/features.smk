rule window:
    input:
        catalog=f"{POOL}/catalog.parquet",
    output:
        directory(f"{POOL}/window.zarr"),
    params:
        pool=lambda wildcards, input: os.path.dirname(input.catalog),
        settings=step_settings("window"),
    log:
        log_file("window"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec window --pool {params.pool} --out {output} --threads {threads}"
        " --settings {params.settings:q} > {log} 2>&1"


rule features:
    input:
        catalog=f"{POOL}/catalog.parquet",
    output:
        directory(f"{POOL}/features.zarr"),
    params:
        pool=lambda wildcards, input: os.path.dirname(input.catalog),
        settings=step_settings("features"),
    log:
        log_file("features"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec features --pool {params.pool} --out {output} --threads {threads}"
        " --settings {params.settings:q} > {log} 2>&1"


# The anomaly score of every spectrum: anomaly mode ranks by it, and classification
# mode's discovery asks its outliers while a class of interest is scarce.
rule detect:
    input:
        ANOMALY_FEATURES,
    output:
        f"{POOL}/anomaly_scores.parquet",
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
