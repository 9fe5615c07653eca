# What both modes share per iteration: the answers so far, as one training set.


rule training_set:
    input:
        unpack(held_out_input),
        labels=training_set_inputs,
    output:
        f"{ITERATION}/training_set.parquet",
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
