rule window:
    input:
        catalog=f"{POOL}/catalog.parquet",
    output:
        directory(f"{POOL}/window.zarr"),
    params:
        pool=lambda wildcards, input: os.path.dirname(input.catalog),
        start=config["window"]["start"],
        stop=config["window"]["stop"],
        points=config["window"]["points"],
        normalisation=config["window"]["normalisation"],
        min_coverage=config["window"]["min_coverage"],
        segment=config["window"]["continuum_segment"],
        block_size=config["pool"]["block_size"],
        dask=dask_options,
    log:
        log_file("window"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec window --pool {params.pool} --out {output} --range {params.start} {params.stop}"
        " --points {params.points} --normalisation {params.normalisation}"
        " --min-coverage {params.min_coverage} --continuum-segment {params.segment}"
        " --block-size {params.block_size} {params.dask} --threads {threads} > {log} 2>&1"


rule features:
    input:
        catalog=f"{POOL}/catalog.parquet",
    output:
        directory(f"{POOL}/features.zarr"),
    params:
        pool=lambda wildcards, input: os.path.dirname(input.catalog),
        segment=config["features"]["continuum_segment"],
        pca=config["features"]["pca"],
        lines=line_options,
        map=config["features"]["map"],
        block_size=config["pool"]["block_size"],
        dask=dask_options,
    log:
        log_file("features"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec features --pool {params.pool} --out {output} --continuum-segment {params.segment}"
        " --pca-components {params.pca[components]} --pca-sample {params.pca[sample]}"
        " --pca-bin {params.pca[bin]} --pca-seed {params.pca[seed]} {params.lines}"
        " --map {params.map[method]} --map-sample {params.map[sample]}"
        " --tsne-max {params.map[tsne_max]} --map-seed {params.map[seed]}"
        " --block-size {params.block_size} {params.dask} --threads {threads} > {log} 2>&1"


# The anomaly score of every spectrum: anomaly mode ranks by it, and classification
# mode's discovery asks its outliers while a class of interest is scarce.
rule detect:
    input:
        ANOMALY_FEATURES,
    output:
        f"{POOL}/anomaly_scores.parquet",
    params:
        features=detector_reads,
        anomaly=config["anomaly"],
    log:
        log_file("detect"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec detect --features {params.features} --detector {params.anomaly[detector]}"
        " --neighbours {params.anomaly[neighbours]} --seed {params.anomaly[seed]}"
        " --out {output} --threads {threads} > {log} 2>&1"
