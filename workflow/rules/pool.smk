rule ingest:
    input:
        pool_files,
    output:
        store=directory(f"{POOL}/spectra.zarr"),
        catalog=f"{POOL}/catalog.parquet",
        quarantine=f"{POOL}/quarantine.parquet",
    params:
        grid=lambda wildcards: " ".join(str(v) for v in config["pool"]["grid"].values()),
        metadata=config["pool"]["metadata"],
        block_size=config["pool"]["block_size"],
    log:
        "results/logs/ingest.log",
    resources:
        mem_mb=4000,
    conda:
        ENV
    shell:
        "alspec ingest {input:q} --store {output.store} --catalog {output.catalog}"
        " --quarantine {output.quarantine} --grid {params.grid} --metadata {params.metadata}"
        " --block-size {params.block_size} > {log} 2>&1"


rule window:
    input:
        pool=f"{POOL}/spectra.zarr",
    output:
        directory(f"{POOL}/window.zarr"),
    params:
        start=config["window"]["start"],
        stop=config["window"]["stop"],
        points=config["window"]["points"],
        block_size=config["pool"]["block_size"],
    log:
        "results/logs/window.log",
    conda:
        ENV
    shell:
        "alspec window --pool {input.pool} --out {output} --range {params.start} {params.stop}"
        " --points {params.points} --block-size {params.block_size} > {log} 2>&1"
