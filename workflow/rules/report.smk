# The report of each iteration (alspec.report): its figures are flagged for Snakemake's
# report, so that `snakemake --report results/report.html` bundles them with the run's
# provenance, one category per iteration. Captions: workflow/report/<figure>.rst.
rule report:
    input:
        unpack(report_inputs),
        query=f"{ITERATION}/{QUERY}",
        labels=f"{ITERATION}/{ANSWERS}",
        training_set=f"{ITERATION}/{TRAINING_SET}",
    output:
        **figure_outputs(),
    params:
        stores=lambda wildcards, input: " ".join(
            f"--{name} {input[name]}" for name in ("window", "features") if name in input.keys()
        ),
        results=lambda wildcards, input: os.path.dirname(os.path.dirname(input.catalog)),
        out=lambda wildcards, output: os.path.dirname(output[0]),
        settings=step_settings("report"),
    log:
        log_file("report", "{n}"),
    resources:
        **CPU_JOB,
    conda:
        ENV
    shell:
        "alspec report {params.results} --iteration {wildcards.n} {params.stores} --out {params.out}"
        " --settings {params.settings:q} > {log} 2>&1"
