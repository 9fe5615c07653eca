# A simulated survey and its truth (alspec.survey), when config pool.files names it.


rule simulate:
    output:
        spectra=directory(f"{SURVEY}/{SPECTRA}"),
        truth=f"{SURVEY}/{TRUTH}",
    params:
        out=lambda wildcards, output: os.path.dirname(output.truth),
        settings=step_settings("simulate"),
    log:
        log_file("simulate"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec simulate --out {params.out} --workers {threads} --settings {params.settings:q}"
        " > {log} 2>&1"
