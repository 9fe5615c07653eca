rule simulate:
    output:
        spectra=directory("results/survey/spectra"),
        truth="results/survey/truth.parquet",
    params:
        out=lambda wildcards, output: os.path.dirname(output.truth),
        n_spectra=config["simulate"]["n_spectra"],
        single_peak=config["simulate"]["rates"]["single_peak"],
        double_peak=config["simulate"]["rates"]["double_peak"],
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
        " --single-peak-rate {params.single_peak} --double-peak-rate {params.double_peak}"
        " --snr {params.snr} --seed {params.seed} --workers {threads} > {log} 2>&1"
