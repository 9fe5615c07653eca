# Handing over (alspec.handover, classification mode): each iteration's candidates as
# VOTable, FITS and CSV, cross-matched with config crossmatch's catalogues; the last
# iteration's also in results/catalogue/, what a session hands over (`alspec samp`
# sends it on).


rule catalogue:
    input:
        unpack(lambda wildcards: catalogue_inputs(f"{ITERATIONS}/{wildcards.n}")),
    output:
        expand(
            f"{ITERATION}/{CATALOGUE_FOLDER}/{{name}}",
            name=CATALOGUE_FILES.values(),
            allow_missing=True,
        ),
    params:
        iteration=lambda wildcards: wildcards.n,
        out=lambda wildcards, output: os.path.dirname(output[0]),
        settings=step_settings("catalogue"),
    log:
        log_file("catalogue", "{n}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec catalogue --iteration {params.iteration} --candidates {input.candidates}"
        " --answers {input.training_set} {input.labels} --catalog {input.catalog}"
        " --performance {input.performance} --provenance {input.provenance}"
        " --out {params.out} --settings {params.settings:q} > {log} 2>&1"


use rule catalogue as handover with:
    input:
        unpack(lambda wildcards: catalogue_inputs(f"{ITERATIONS}/{LAST_ITERATION}")),
    output:
        expand(f"{CATALOGUE}/{{name}}", name=CATALOGUE_FILES.values()),
    params:
        iteration=LAST_ITERATION,
    log:
        log_file("handover"),
