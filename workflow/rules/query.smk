# The query (alspec.query, classification mode): the cold start, then per iteration the
# batch to ask from the pool's predictions.


rule cold_start:
    input:
        unpack(chosen_ids),
        unpack(held_out_input),
        window=f"{POOL}/{WINDOW}",
    output:
        f"{COLD_START}/{QUERY}",
    params:
        ids=lambda wildcards, input: f"--ids {input.ids}" if "ids" in input.keys() else "",
        held_out=held_out_option,
        settings=step_settings("cold-start"),
    log:
        log_file("cold_start"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec cold-start --window {input.window} {params.ids} {params.held_out} --out {output}"
        " --settings {params.settings:q} > {log} 2>&1"


rule query:
    input:
        unpack(held_out_input),
        unpack(discovery_inputs),
        unpack(requested_input),
        predictions=f"{ITERATION}/{PREDICTIONS}",
        training_set=f"{ITERATION}/{TRAINING_SET}",
        window=f"{POOL}/{WINDOW}",
    output:
        query=f"{ITERATION}/{QUERY}",
        candidates=f"{ITERATION}/{CANDIDATES}",
    params:
        stores=lambda wildcards, input: " ".join(
            f"--{name.replace('_', '-')} {input[name]}"
            for name in ("held_out", "features", "anomaly_scores", "requested")
            if name in input.keys()
        ),
        settings=step_settings("query"),
    log:
        log_file("query", "{n}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec query --predictions {input.predictions} --training-set {input.training_set}"
        " --iteration {wildcards.n} --window {input.window} {params.stores}"
        " --out {output.query} --candidates {output.candidates}"
        " --settings {params.settings:q} > {log} 2>&1"
