rule simulate:
    output:
        spectra=directory("results/survey/spectra"),
        truth="results/survey/truth.parquet",
    params:
        out=lambda wildcards, output: os.path.dirname(output.truth),
        n_spectra=config["simulate"]["n_spectra"],
        rates=" ".join(f"{c}={r}" for c, r in config["simulate"]["rates"].items()),
        snr=config["simulate"]["snr"],
        seed=config["simulate"]["seed"],
    log:
        "results/logs/simulate.log",
    resources:
        **CPU_JOB,
    threads: 2
    conda:
        ENV
    shell:
        "alspec simulate --out {params.out} --n-spectra {params.n_spectra}"
        " --rates {params.rates}"
        " --snr {params.snr} --seed {params.seed} --workers {threads} > {log} 2>&1"
