# The pool (alspec.pool). Scatter/gather: the survey's files are split into shards (a
# checkpoint, since their number depends on the files); each shard is one ingest job
# (its memory: profiles/slurm); gather checks the counts.


checkpoint shard_lists:
    input:
        pool_files,
    output:
        directory(f"{POOL}/{SHARD_LISTS}"),
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
        f"{POOL}/{SHARD_LISTS}/{{shard}}.txt",
    output:
        directory(f"{POOL}/{SHARDS}/{{shard}}"),
    params:
        settings=step_settings("ingest"),
    log:
        log_file("ingest", "{shard}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec ingest {input} --out {output} --settings {params.settings:q} > {log} 2>&1"


rule gather:
    input:
        lists=f"{POOL}/{SHARD_LISTS}",
        shards=shard_folders,
    output:
        catalog=f"{POOL}/{CATALOG}",
        quarantine=f"{POOL}/{QUARANTINE}",
    log:
        log_file("gather"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec gather {input.shards} --lists {input.lists} --catalog {output.catalog}"
        " --quarantine {output.quarantine} 2>&1 | tee {log}"

