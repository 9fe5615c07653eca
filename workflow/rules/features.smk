# The features (alspec.features): the window the CNN reads, PCA scores, line measurements
# and the map of every spectrum, each one's nearest neighbours (the explorer's index); an
# external labelled set (initial.source external) made into windows like the pool's.


rule window:
    input:
        catalog=f"{POOL}/{CATALOG}",
    output:
        directory(f"{POOL}/{WINDOW}"),
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
        catalog=f"{POOL}/{CATALOG}",
    output:
        directory(f"{POOL}/{FEATURES}"),
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


rule neighbours:
    input:
        features=f"{POOL}/{FEATURES}",
    output:
        directory(f"{POOL}/{NEIGHBOURS}"),
    params:
        settings=step_settings("neighbours"),
    log:
        log_file("neighbours"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec neighbours --features {input.features} --out {output} --threads {threads}"
        " --settings {params.settings:q} > {log} 2>&1"


rule transfer:
    input:
        files=external_files,
        labels=config["initial"]["external"]["labels"] or [],
    output:
        window=directory(f"{EXTERNAL}/{WINDOW}"),
        labels=f"{EXTERNAL}/{ANSWERS}",
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
