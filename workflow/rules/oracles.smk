# The oracle (alspec.oracles). Asking and answering are two rules: a person may take days. `pull` fails with
# "k of n labelled: ..." until the batch is complete; run the workflow again then (or let
# `alspec watch` do it). Every answer also lands in the pool's label catalogue, which
# outlives the run (results/pool/labels.parquet; no rule owns it).
# Both run where snakemake runs, which reaches Label Studio; compute nodes may not.


localrules:
    push,
    pull,


rule push:
    input:
        query=f"{BATCH}/{QUERY}",
        window=f"{POOL}/{WINDOW}",
        catalog=f"{POOL}/{CATALOG}",
    output:
        receipt=f"{BATCH}/{RECEIPT}",
    params:
        pool=lambda wildcards, input: os.path.dirname(input.catalog),
        settings=step_settings("push"),
    log:
        log_file("push", "{batch}"),
    conda:
        ENV
    shell:
        "alspec push --query {input.query} --batch {wildcards.batch} --receipt {output.receipt}"
        " --window {input.window} --pool {params.pool} --settings {params.settings:q}"
        " > {log} 2>&1"


rule pull:
    input:
        unpack(truth_input("oracle")),
        query=f"{BATCH}/{QUERY}",
        receipt=f"{BATCH}/{RECEIPT}",
    output:
        f"{BATCH}/{ANSWERS}",
    params:
        truth=truth_option,
        catalogue=f"{POOL}/{LABEL_CATALOGUE}",
        settings=step_settings("pull"),
    log:
        log_file("pull", "{batch}"),
    conda:
        ENV
    shell:
        "alspec pull --query {input.query} --batch {wildcards.batch} --receipt {input.receipt}"
        " {params.truth} --catalogue {params.catalogue} --out {output}"
        " --settings {params.settings:q} 2>&1 | tee {log}"


# What both modes share per iteration: the answers so far, as one training set.
rule training_set:
    input:
        unpack(held_out_input),
        labels=training_set_inputs,
    output:
        f"{ITERATION}/{TRAINING_SET}",
    params:
        held_out=held_out_option,
        settings=step_settings("training-set"),
    log:
        log_file("training_set", "{n}"),
    conda:
        ENV
    shell:
        "alspec training-set {input.labels:q} {params.held_out} --out {output}"
        " --settings {params.settings:q} > {log} 2>&1"
