"""What one iteration was made from, so that it can be checked and made again.

The record holds the resolved config, the seeds in it, the versions of the packages that
compute, the git commit of the workflow, where the model was trained, and SHA-256
checksums of the iteration's inputs (training set, the store the model reads) and of
what it produced (predictions, query batch, candidates, answers). Rerunning an iteration
with unchanged inputs gives the same products, hence the same checksums.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from alspec.layout import SNAKEMAKE_MARKER

# The distributions whose versions decide an iteration's numbers (TensorFlow under
# either of its names: the CPU build here, the CUDA build on GPU nodes).
PACKAGES = (
    "alspec",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "xarray",
    "zarr",
    "dask",
    "astropy",
    "scikit-learn",
    "imbalanced-learn",
    "umap-learn",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "snakemake",
    "label-studio-sdk",
)
CHUNK = 1 << 20  # bytes read at a time while hashing

logger = logging.getLogger(__name__)


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """Installed version of each distribution in `names`; absent ones are left out."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_state(repository: Path) -> dict[str, Any]:
    """The workflow's commit and whether tracked files differ from it (None outside git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(repository), *args], capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "modified": None}
    modified = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "modified": bool(modified)}


def _files(path: Path) -> Iterator[Path]:
    """`path` itself, or every file under a directory (a Zarr store) in a fixed order,
    Snakemake's marker (added after the step sealed the store) left out."""
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*") if p.is_file() and p.name != SNAKEMAKE_MARKER)
    else:
        yield path


def checksum(path: Path) -> str:
    """SHA-256 of a file, or of a directory: each file's relative path and content."""
    digest = hashlib.sha256()
    for file in _files(path):
        if file != path:
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as stream:
            while block := stream.read(CHUNK):
                digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def listing(store: Path) -> str:
    """SHA-256 of a store's file names, sizes and modification times: read from the
    directory alone, it changes whenever a file of the store is rewritten."""
    digest = hashlib.sha256()
    for file in _files(store):
        stat = file.stat()
        digest.update(
            f"{file.relative_to(store).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    return f"sha256:{digest.hexdigest()}"


def seal_of(store: Path) -> Path:
    """Where a store's seal lies: beside it (window.zarr.checksum.json), not in it,
    where Zarr would take it for a member of the store."""
    return store.with_name(store.name + ".checksum.json")


def seal(store: Path, name: str | None = None) -> str:
    """Hash a Zarr store once, as the step that made it finishes, and write the checksum
    beside it with its listing: each iteration's record then checks the listing instead
    of reading the whole store again (a 10^7-spectrum window store is 5.6 GB). `name`:
    the store's final name, where it is sealed before being moved there."""
    made = {"checksum": checksum(store), "listing": listing(store)}
    seal_of(store.with_name(name) if name else store).write_text(json.dumps(made, indent=2) + "\n")
    return made["checksum"]


def verified_checksum(path: Path) -> dict[str, str]:
    """`path` and its checksum, and how it was `verified`: "sealed" for a store whose
    files are as sealed (names, sizes, times; its data not read), "hashed" for anything
    else, and a store changed since it was sealed is hashed anew, with a warning."""
    sealed = seal_of(path)
    if not (path.is_dir() and sealed.is_file()):
        return {"path": str(path), "checksum": checksum(path), "verified": "hashed"}
    recorded = json.loads(sealed.read_text())
    if listing(path) == recorded["listing"]:
        return {"path": str(path), "checksum": recorded["checksum"], "verified": "sealed"}
    logger.warning("%s: changed since it was made (%s); hashing it anew", path, sealed.name)
    return {"path": str(path), "checksum": checksum(path), "verified": "changed since sealed"}


def config_checksum(config: Mapping[str, Any]) -> str:
    """The SHA-256 of a resolved config, as canonical JSON: equal configs, equal sums."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def seeds(config: Mapping[str, Any], prefix: str = "") -> dict[str, int]:
    """Every `seed` setting of the config, by its dotted key (e.g. model.seed)."""
    found = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found |= seeds(value, f"{name}.")
        elif key == "seed":
            found[name] = value
    return found


def _checksums(paths: Mapping[str, Path]) -> dict[str, dict[str, str]]:
    return {name: verified_checksum(Path(p)) for name, p in paths.items()}


def record(
    iteration: int,
    config: Mapping[str, Any],
    query_seed: int,
    inputs: Mapping[str, Path],
    products: Mapping[str, Path],
    training: Mapping[str, Any],
    repository: Path,
) -> dict[str, Any]:
    """The provenance record of iteration `iteration`: `query_seed` is the seed its
    batch was drawn with, `training` its training report (the device and job)."""
    return {
        "iteration": iteration,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_state(repository),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "seeds": seeds(config) | {"query batch of this iteration": query_seed},
        "trained_on": {"device": training.get("device"), **training.get("job", {})},
        "inputs": _checksums(inputs),
        "products": _checksums(products),
        "config": dict(config),
    }
