rule simulate:
    output:
        spectra=directory(f"{SURVEY}/spectra"),
        truth=f"{SURVEY}/truth.parquet",
    params:
        out=lambda wildcards, output: os.path.dirname(output.truth),
        instrument=config["simulate"]["instrument"],
        n_spectra=config["simulate"]["n_spectra"],
        spectra=(
            ""  # Table 1's curves have their own shapes and noise
            if config["simulate"]["instrument"] == "curves"
            else "--rates "
            + " ".join(f"{c}={r}" for c, r in config["simulate"]["rates"].items())
            + " --snr {} {}".format(*config["simulate"]["snr"])
            + " --emission-ew {} {}".format(*config["simulate"]["emission_ew"])
            + (
                f" --snr-median {config['simulate']['snr_median']}"
                if config["simulate"]["snr_median"]
                else ""
            )
        ),
        seed=config["simulate"]["seed"],
    log:
        log_file("simulate"),
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec simulate --instrument {params.instrument} --out {params.out}"
        " --n-spectra {params.n_spectra} {params.spectra} --seed {params.seed}"
        " --workers {threads} > {log} 2>&1"
