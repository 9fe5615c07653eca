# Asking and answering are two rules: a person may take days. `pull` fails with
# "k of n labelled: ..." until the batch is complete; run the workflow again then (or let
# `alspec watch` do it). Every answer also lands in the pool's label catalogue, which
# outlives the run (results/pool/labels.parquet; no rule owns it).
# Both run where snakemake runs, which reaches Label Studio; compute nodes may not.


localrules:
    push,
    pull,


rule push:
    input:
        query=f"{BATCH}/query.parquet",
        window=f"{POOL}/window.zarr",
        catalog=f"{POOL}/catalog.parquet",
    output:
        receipt=f"{BATCH}/batch.json",
    params:
        backend=config["oracle"]["backend"],
        classes=ANSWERS,
        url=config["oracle"]["labelstudio"]["url"],
        project=config["oracle"]["labelstudio"]["project"],
        token_file=config["oracle"]["labelstudio"]["token_file"],
        metadata=config["oracle"]["labelstudio"]["metadata"],
        pool=lambda wildcards, input: os.path.dirname(input.catalog),
    log:
        log_file("push", "{batch}"),
    conda:
        ENV
    shell:
        "alspec push --backend {params.backend} --query {input.query} --batch {wildcards.batch}"
        " --receipt {output.receipt} --classes {params.classes} --window {input.window}"
        " --pool {params.pool} --metadata {params.metadata} --url {params.url:q}"
        " --project {params.project:q} --token-file {params.token_file:q} > {log} 2>&1"


rule pull:
    input:
        unpack(truth_input("oracle")),
        query=f"{BATCH}/query.parquet",
        receipt=f"{BATCH}/batch.json",
    output:
        f"{BATCH}/labels.parquet",
    params:
        backend=config["oracle"]["backend"],
        classes=ANSWERS,
        token_file=config["oracle"]["labelstudio"]["token_file"],
        truth=truth_option,
        relevance=lambda wildcards: (
            "--relevance-of "
            + " ".join(f"{c}={u}" for c, u in config["anomaly"]["relevance_of"].items())
            if ANOMALY and config["oracle"]["backend"] == "simulated"
            else ""
        ),
        catalogue=f"{POOL}/labels.parquet",
        session=config["oracle"]["labelstudio"]["project"],
    log:
        log_file("pull", "{batch}"),
    conda:
        ENV
    shell:
        "alspec pull --backend {params.backend} --query {input.query} --batch {wildcards.batch}"
        " --receipt {input.receipt} --classes {params.classes} {params.truth} {params.relevance}"
        " --token-file {params.token_file:q} --catalogue {params.catalogue}"
        " --session {params.session:q} --out {output} 2>&1 | tee {log}"
