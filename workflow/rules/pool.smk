# Scatter/gather: the survey's files are split into shards (a checkpoint, since their
# number depends on the files); each shard is one ingest job; gather checks the counts.


checkpoint shard_lists:
    input:
        pool_files,
    output:
        directory(f"{POOL}/shards/lists"),
    params:
        settings=step_settings("shard"),
    log:
        log_file("shard_lists"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec shard {input:q} --out {output} --settings {params.settings:q} > {log} 2>&1"


rule ingest:
    input:
        f"{POOL}/shards/lists/{{shard}}.txt",
    output:
        directory(f"{POOL}/shards/{{shard}}"),
    params:
        settings=step_settings("ingest"),
    log:
        log_file("ingest", "{shard}"),
    resources:
        **CPU_JOB,
        mem_mb=2000,
    conda:
        ENV
    shell:
        "alspec ingest {input} --out {output} --settings {params.settings:q} > {log} 2>&1"


rule gather:
    input:
        lists=f"{POOL}/shards/lists",
        shards=shard_folders,
    output:
        catalog=f"{POOL}/catalog.parquet",
        quarantine=f"{POOL}/quarantine.parquet",
    log:
        log_file("gather"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec gather {input.shards} --lists {input.lists} --catalog {output.catalog}"
        " --quarantine {output.quarantine} 2>&1 | tee {log}"

