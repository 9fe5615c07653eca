"""Spectrum file formats: LAMOST low-resolution FITS (primary HDU with a 5-row image).

The LAMOST DR1-DR7 layout: a float32 image of shape (5, n_pixels) holding flux,
inverse variance, vacuum wavelength, andmask and ormask; the header carries the
identifiers and the log-linear wavelength solution COEFF0 + COEFF1 * pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits

LAMOST_ROWS = ("flux", "ivar", "wavelength", "andmask", "ormask")


class SpectrumFileError(ValueError):
    """A file that is not a readable spectrum; the message names the file and the reason."""


@dataclass
class Spectrum:
    id: str
    wavelength: np.ndarray
    flux: np.ndarray
    ivar: np.ndarray
    ormask: np.ndarray
    header: dict[str, Any] = field(default_factory=dict)

    def weights(self) -> np.ndarray:
        """Inverse variance with the pixels flagged bad in any exposure (ormask) zeroed."""
        return np.where(self.ormask == 0, self.ivar, 0.0)


def write_lamost(path: str | Path, spectrum: Spectrum, andmask: np.ndarray) -> None:
    image = np.vstack(
        [spectrum.flux, spectrum.ivar, spectrum.wavelength, andmask, spectrum.ormask]
    ).astype(np.float32)
    header = fits.Header()
    for key, value in spectrum.header.items():
        header[key] = value
    fits.PrimaryHDU(image, header=header).writeto(path, overwrite=True)


def read_lamost(path: str | Path) -> Spectrum:
    """Read one LAMOST low-resolution spectrum; its id is the OBSID, else the file name."""
    path = Path(path)
    try:
        with fits.open(path, memmap=False) as hdus:
            image = hdus[0].data
            header = dict(hdus[0].header)
    except (OSError, ValueError, TypeError) as error:
        raise SpectrumFileError(f"{path}: not a readable FITS file ({error})") from error
    if image is None or image.ndim != 2 or image.shape[0] != len(LAMOST_ROWS):
        shape = None if image is None else image.shape
        raise SpectrumFileError(f"{path}: primary HDU is not a LAMOST 5-row image (shape {shape})")
    rows = dict(zip(LAMOST_ROWS, image.astype(np.float64), strict=True))
    obsid = header.get("OBSID")
    return Spectrum(
        id=str(obsid) if obsid not in (None, "") else path.name.split(".")[0],
        wavelength=rows["wavelength"],
        flux=rows["flux"],
        ivar=rows["ivar"],
        ormask=rows["ormask"].astype(np.int64),
        header=header,
    )
