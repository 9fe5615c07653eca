"""Where the work runs: a step's own Slurm job (placement, light: the rules ask it), and
the Dask computations inside a step (dask_client: threads, a scheduler, Slurm workers)."""
