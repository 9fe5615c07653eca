"""Spectrum files in every common layout, detected from the file itself.

`read_spectra(path)` yields each spectrum a file holds as a `Spectrum`, or a `Rejected`
record naming the file, row and reason, so one bad spectrum never stops the rest:

- LAMOST low resolution, DR1-DR7: primary HDU with a 5-row image (flux, inverse
  variance, wavelength, andmask, ormask); id = OBSID.
- LAMOST DR8 and later: a `COADD` binary table (FLUX, IVAR, WAVELENGTH, ANDMASK, ORMASK).
- SDSS/BOSS `spec-*.fits`: `COADD` table (flux, loglam, ivar, and_mask), metadata from
  the `SPECOBJ` (or `SPALL`) HDU; id = plate-MJD-fiber.
- 1-D FITS images with a linear or log-linear wavelength WCS (CRVAL1, CDELT1 or CD1_1,
  CRPIX1, DC-FLAG), as the Ondřejov archive stores them, in air unless CTYPE1 says WAVE.
- Tables of many spectra: CSV with an `id` column and one column per wavelength (the
  VO-CLOUD pool.csv), HDF5 (datasets id, wavelength, flux, optional ivar and mask) and
  VOTable (an `id` column with array columns flux [and ivar, wavelength], or one
  column per wavelength).

Gzipped files are read as they are. Layouts without inverse variance get a constant
one from the DER_SNR noise estimate (Stoehr et al. 2008).
"""

from __future__ import annotations

import gzip
import io
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.io.votable import parse_single_table

LAMOST_ROWS = ("flux", "ivar", "wavelength", "andmask", "ormask")
FITS_SUFFIXES = (".fits", ".fit", ".fts")
TABLE_BLOCK = 4096
GZIP_MAGIC = b"\x1f\x8b"
RA_KEYS, DEC_KEYS = ("RA", "PLUG_RA", "RA_OBJ"), ("DEC", "PLUG_DEC", "DEC_OBJ")


@dataclass
class Spectrum:
    id: str
    wavelength: np.ndarray  # Å, as stored: vacuum, or air where `air`
    flux: np.ndarray
    ivar: np.ndarray  # zero where a pixel is masked
    meta: dict[str, Any] = field(default_factory=dict)  # upper-case keys
    air: bool = False
    row: int | None = None  # position in a file of many spectra


@dataclass
class Rejected:
    """A spectrum, or a whole file, that cannot enter the pool, and why."""

    file: str
    reason: str
    row: int | None = None
    id: str | None = None


Record = Spectrum | Rejected


class SpectrumFileError(ValueError):
    """A file whose layout cannot be read; the message names the reason."""


def extension(path: Path) -> str:
    """The lower-case extension without a trailing .gz: "spec-1.fits.gz" -> ".fits"."""
    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix


def stem(path: Path) -> str:
    """The file name without its extensions: the id of last resort."""
    name = path.name.removesuffix(".gz").removesuffix(".GZ")
    return name.rsplit(".", 1)[0] if "." in name else name


def read_spectra(path: str | Path, metadata: Sequence[str] = ()) -> Iterator[Record]:
    """Every spectrum in `path`, checked; `metadata` names extra header keys to keep."""
    path = Path(path)
    reader = READERS.get(extension(path), _read_fits)  # which says it cannot read it
    try:
        for record in reader(path, [k.upper() for k in metadata]):
            yield record if isinstance(record, Rejected) else checked(record, path)
    except SpectrumFileError as error:
        yield Rejected(str(path), str(error))
    except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError, Warning) as error:
        yield Rejected(str(path), f"unreadable: {type(error).__name__}: {error}")


def checked(spectrum: Spectrum, path: Path) -> Record:
    """The spectrum, or why it cannot be used: shapes, NaN/inf, weights."""
    n = spectrum.wavelength.shape

    def reject(reason: str) -> Rejected:
        return Rejected(str(path), reason, spectrum.row, spectrum.id)

    if spectrum.flux.ndim != 1 or spectrum.flux.shape != n or spectrum.ivar.shape != n:
        shapes = f"{spectrum.wavelength.shape}, {spectrum.flux.shape}, {spectrum.ivar.shape}"
        return reject(f"wavelength, flux and inverse variance differ in shape: {shapes}")
    if not np.isfinite(spectrum.wavelength).all():
        return reject("NaN or inf in the wavelengths")
    weighted = spectrum.ivar != 0
    bad = weighted & ~(np.isfinite(spectrum.flux) & np.isfinite(spectrum.ivar))
    if bad.any():
        first = spectrum.wavelength[bad][0]
        return reject(
            f"NaN or inf in flux or inverse variance at {bad.sum()} unmasked "
            f"pixel(s), the first at {first:.1f} Å"
        )
    if (spectrum.ivar < 0).any():
        return reject("negative inverse variance")
    if not weighted.any():
        return reject("inverse variance is zero everywhere: no usable pixel")
    return spectrum


# --- FITS -------------------------------------------------------------------------------------


def _read_fits(path: Path, metadata: list[str]) -> Iterator[Record]:
    if extension(path) not in FITS_SUFFIXES:
        raise SpectrumFileError(f"not a known spectrum format ({path.suffix})")
    raw = path.read_bytes()
    if raw[:2] == GZIP_MAGIC:
        raw = gzip.decompress(raw)
    simple = simple_image(raw, {"OBSID", *metadata, *RA_KEYS, *DEC_KEYS})
    if simple is not None:
        header, image = simple
        yield _lamost_image_data(image, header, path, metadata)
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "File may have been truncated")
        with fits.open(io.BytesIO(raw), memmap=False) as hdus:  # the bytes already read
            spectrum = _fits_spectrum(hdus, path, metadata)
    yield spectrum


def _fits_spectrum(hdus: fits.HDUList, path: Path, metadata: list[str]) -> Spectrum:
    """The layout, told by the HDUs: a COADD table (SDSS if it has loglam, else LAMOST
    DR8+), a 2-D primary image (LAMOST DR1-7) or a 1-D one (a WCS spectrum)."""
    names = [hdu.name.upper() for hdu in hdus]
    data = hdus[0].data
    if "COADD" in names and "loglam" in map(str.lower, hdus["COADD"].columns.names):
        return _sdss(hdus, path, metadata)
    if "COADD" in names:
        return _lamost_table(hdus, path, metadata)
    if data is not None and data.ndim == 2:
        return _lamost_image(hdus[0], path, metadata)
    if data is not None and data.ndim == 1:
        return _wcs_image(hdus[0], path, metadata)
    shape = None if data is None else data.shape
    raise SpectrumFileError(
        f"no known layout: primary data of shape {shape}, extensions {names[1:]}"
    )


STRUCTURE = ("SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "BSCALE", "BZERO")


def simple_image(raw: bytes, wanted: set[str]) -> tuple[dict[str, Any], np.ndarray] | None:
    """The `wanted` header values and the data of a FITS file holding one unscaled 2-D
    float32 image and nothing else (LAMOST DR1-DR7), parsed directly: astropy's general
    parser costs more than the rest of ingest. None for anything else: astropy reads it."""
    texts: dict[str, str] = {}
    for start in range(0, len(raw) - 79, 80):
        card = raw[start : start + 80].decode("ascii", "replace")
        keyword = card[:8].rstrip()
        if keyword == "END":
            header_end = -(-(start + 80) // 2880) * 2880
            break
        if card[8:10] == "= " and keyword not in texts:
            texts[keyword] = card[10:]
    else:
        return None
    cards = {k: _card_value(texts[k]) for k in (*STRUCTURE, *wanted) if k in texts}
    shape = (cards.get("NAXIS2"), cards.get("NAXIS1"))
    plain = (
        cards.get("SIMPLE") is True
        and cards.get("BITPIX") == -32
        and cards.get("NAXIS") == 2
        and cards.get("BSCALE", 1) == 1
        and cards.get("BZERO", 0) == 0
    )
    if not plain or None in shape:
        return None
    data_end = header_end + 4 * shape[0] * shape[1]
    if len(raw) < data_end or len(raw) > -(-data_end // 2880) * 2880:
        return None  # truncated, or extensions follow: let astropy tell
    return cards, np.frombuffer(raw, ">f4", shape[0] * shape[1], header_end).reshape(shape)


def _card_value(text: str) -> Any:
    """The value of a FITS card: a quoted string, T/F, an integer or a float."""
    text = text.strip()
    if text.startswith("'"):
        end, value = 1, []
        while end < len(text):
            quote = text.find("'", end)
            if quote < 0:
                break
            value.append(text[end:quote])
            if text[quote + 1 : quote + 2] != "'":
                break
            value.append("'")
            end = quote + 2
        return "".join(value).rstrip()
    text = text.split("/", 1)[0].strip()
    if text in ("T", "F"):
        return text == "T"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text.replace("D", "E"))
        except ValueError:
            return text


def _header_meta(header: fits.Header, metadata: list[str]) -> dict[str, Any]:
    keys = {*metadata, *RA_KEYS, *DEC_KEYS}
    return {key: header[key] for key in keys if key in header}


def _lamost_image(hdu: fits.PrimaryHDU, path: Path, metadata: list[str]) -> Spectrum:
    return _lamost_image_data(hdu.data, hdu.header, path, metadata)


def _lamost_image_data(image: np.ndarray, header, path: Path, metadata: list[str]) -> Spectrum:
    if image.shape[0] != len(LAMOST_ROWS):
        raise SpectrumFileError(f"primary HDU is not a LAMOST 5-row image (shape {image.shape})")
    flux, ivar, wavelength, andmask, _ = image.astype(np.float64)
    return _lamost(header, path, metadata, wavelength, flux, ivar, andmask)


def _columns(table: fits.FITS_rec, required: Sequence[str], what: str) -> dict[str, str]:
    """The table's column names by their upper-case form; an error names any missing."""
    column = {name.upper(): name for name in table.columns.names}
    missing = [c for c in required if c.upper() not in column]
    if missing:
        raise SpectrumFileError(f"{what} lacks column(s) {missing}")
    return column


def _lamost_table(hdus: fits.HDUList, path: Path, metadata: list[str]) -> Spectrum:
    table = hdus["COADD"].data
    column = _columns(table, ("FLUX", "IVAR", "WAVELENGTH"), "COADD table")
    values = {
        c: np.asarray(table[column[c]][0], dtype=np.float64).ravel()
        for c in ("FLUX", "IVAR", "WAVELENGTH")
    }
    andmask = table[column["ANDMASK"]][0] if "ANDMASK" in column else np.zeros_like(values["FLUX"])
    header = hdus[0].header
    return _lamost(
        header,
        path,
        metadata,
        values["WAVELENGTH"],
        values["FLUX"],
        values["IVAR"],
        np.asarray(andmask).ravel(),
    )


def _lamost(header, path, metadata, wavelength, flux, ivar, andmask) -> Spectrum:
    """LAMOST's andmask flags pixels bad in every exposure: those carry no weight."""
    obsid = header.get("OBSID")
    return Spectrum(
        id=str(obsid) if obsid not in (None, "") else stem(path),
        wavelength=wavelength,
        flux=flux,
        ivar=np.where(andmask == 0, ivar, 0.0),
        meta=_header_meta(header, metadata),
    )


def _sdss(hdus: fits.HDUList, path: Path, metadata: list[str]) -> Spectrum:
    table = hdus["COADD"].data
    column = _columns(table, ("flux", "loglam", "ivar"), "SDSS COADD table")
    flux, ivar = (np.asarray(table[column[c]], dtype=np.float64) for c in ("FLUX", "IVAR"))
    and_mask = np.asarray(table[column["AND_MASK"]]) if "AND_MASK" in column else 0
    meta = _header_meta(hdus[0].header, metadata)
    specobj = next((hdus[n] for n in ("SPECOBJ", "SPALL") if n in hdus), None)
    if specobj is not None:
        row = specobj.data[0]
        fields = {name.upper(): name for name in specobj.columns.names}
        meta |= {key: row[fields[key]] for key in {*metadata, *RA_KEYS, *DEC_KEYS} if key in fields}
        ids = [row[fields[k]] if k in fields else None for k in ("PLATE", "MJD", "FIBERID")]
    else:
        header = hdus[0].header
        ids = [header.get(k) for k in ("PLATEID", "MJD", "FIBERID")]
    identifier = (
        f"{int(ids[0]):04d}-{int(ids[1]):05d}-{int(ids[2]):04d}" if None not in ids else stem(path)
    )
    return Spectrum(
        id=identifier,
        wavelength=10.0 ** np.asarray(table[column["LOGLAM"]], dtype=np.float64),
        flux=flux,
        ivar=np.where(and_mask == 0, ivar, 0.0),
        meta={k: plain_value(v) for k, v in meta.items()},
    )


def _wcs_image(hdu: fits.PrimaryHDU, path: Path, metadata: list[str]) -> Spectrum:
    """A 1-D image whose wavelengths follow from its WCS keys; air unless CTYPE1 = WAVE."""
    header = hdu.header
    if "CRVAL1" not in header:
        raise SpectrumFileError("1-D image without a wavelength WCS (CRVAL1)")
    step = header.get("CDELT1", header.get("CD1_1"))
    if not step:
        raise SpectrumFileError("1-D image without CDELT1 or CD1_1")
    pixel = np.arange(hdu.data.size) + 1 - header.get("CRPIX1", 1)
    axis = header["CRVAL1"] + pixel * step
    wavelength = 10.0**axis if header.get("DC-FLAG", 0) == 1 else axis
    flux = hdu.data.astype(np.float64)
    return Spectrum(
        id=stem(path),
        wavelength=wavelength,
        flux=flux,
        ivar=noise_ivar(flux),
        meta=_header_meta(header, metadata),
        air=not str(header.get("CTYPE1", "")).upper().startswith("WAVE"),
    )


# --- tables of many spectra ------------------------------------------------------------------


def _read_csv(path: Path, metadata: list[str]) -> Iterator[Record]:
    """A VO-CLOUD pool.csv: `id`, then one column per wavelength, in blocks of rows."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt") as handle:
        blocks = pd.read_csv(handle, chunksize=TABLE_BLOCK, dtype={"id": str})
        start = 0
        for block in blocks:
            if "id" not in block.columns:
                raise SpectrumFileError(f"no `id` column; columns are {list(block.columns)[:5]}…")
            wave_columns, wavelength = _wavelength_columns(block.columns)
            flux = block[wave_columns].to_numpy(dtype=np.float64)
            extra = [c for c in block.columns if c not in wave_columns and c != "id"]
            yield from _rows(block["id"], wavelength, flux, None, block[extra], start)
            start += len(block)


def _wavelength_columns(columns: Sequence[str]) -> tuple[list[str], np.ndarray]:
    numeric = []
    for name in columns:
        try:
            numeric.append((name, float(str(name).split()[0])))
        except ValueError:
            continue
    if not numeric:
        raise SpectrumFileError("no column named by a wavelength")
    return [n for n, _ in numeric], np.array([w for _, w in numeric])


def _rows(ids, wavelength, flux, ivar, meta: pd.DataFrame, start: int) -> Iterator[Spectrum]:
    for i, identifier in enumerate(ids):
        values = flux[i]
        yield Spectrum(
            id=str(identifier),
            wavelength=wavelength,
            flux=values,
            ivar=noise_ivar(values) if ivar is None else ivar[i],
            meta={k.upper(): plain_value(v) for k, v in meta.iloc[i].items()}
            if len(meta.columns)
            else {},
            row=start + i,
        )


def _read_hdf5(path: Path, metadata: list[str]) -> Iterator[Record]:
    """Datasets `id` (n), `wavelength` (m), `flux` (n, m), optional `ivar` and `mask`
    (n, m; non-zero is bad) and a `metadata` group of (n) datasets; attribute `air`."""
    with h5py.File(path, "r") as h5:
        missing = [name for name in ("id", "wavelength", "flux") if name not in h5]
        if missing:
            raise SpectrumFileError(f"HDF5 file lacks dataset(s) {missing}")
        wavelength = h5["wavelength"][:].astype(np.float64)
        air = bool(h5.attrs.get("air", False))
        extra = h5.get("metadata", {})
        for start in range(0, h5["flux"].shape[0], TABLE_BLOCK):
            rows = slice(start, start + TABLE_BLOCK)
            ids = [i.decode() if isinstance(i, bytes) else str(i) for i in h5["id"][rows]]
            flux = h5["flux"][rows].astype(np.float64)
            ivar = h5["ivar"][rows].astype(np.float64) if "ivar" in h5 else None
            if ivar is not None and "mask" in h5:
                ivar = np.where(h5["mask"][rows] == 0, ivar, 0.0)
            meta = pd.DataFrame({k: extra[k][rows] for k in extra})
            for spectrum in _rows(ids, wavelength, flux, ivar, meta, start):
                spectrum.air = air
                yield spectrum


def _read_votable(path: Path, metadata: list[str]) -> Iterator[Record]:
    """An `id` column with array columns flux (and ivar, wavelength), or one column per
    wavelength; a wavelength PARAM may give the grid."""
    table = parse_single_table(str(path)).to_table()
    names = {name.lower(): name for name in table.colnames}
    if "id" not in names:
        raise SpectrumFileError(f"VOTable without an `id` column; columns {table.colnames[:5]}")
    ids = [str(v) for v in table[names["id"]]]
    if "flux" in names:
        flux = np.asarray(table[names["flux"]], dtype=np.float64)
        if "wavelength" in names:
            wavelength = np.asarray(table[names["wavelength"]][0], dtype=np.float64)
        elif "wavelength" in {k.lower() for k in table.meta}:
            wavelength = np.asarray(table.meta["wavelength"], dtype=np.float64)
        else:
            raise SpectrumFileError("VOTable flux column without a wavelength column or PARAM")
        ivar = np.asarray(table[names["ivar"]], dtype=np.float64) if "ivar" in names else None
        skip = {names[k] for k in ("id", "flux", "ivar", "wavelength") if k in names}
    else:
        wave_columns, wavelength = _wavelength_columns(table.colnames)
        flux = np.column_stack([np.asarray(table[c], dtype=np.float64) for c in wave_columns])
        ivar, skip = None, {names["id"], *wave_columns}
    meta = pd.DataFrame({c: np.asarray(table[c]) for c in table.colnames if c not in skip})
    yield from _rows(ids, wavelength, flux, ivar, meta, 0)


# Each suffix read (before a .gz) and its reader: what `read_spectra` reads, and what the
# pool takes for a spectrum file (any other file named in pool.files lists paths).
READERS = {
    **dict.fromkeys(FITS_SUFFIXES, _read_fits),
    **dict.fromkeys((".csv",), _read_csv),
    **dict.fromkeys((".h5", ".hdf5", ".hdf"), _read_hdf5),
    **dict.fromkeys((".vot", ".votable", ".xml"), _read_votable),
}
SPECTRUM_SUFFIXES = tuple(READERS)


# --- helpers ----------------------------------------------------------------------------------


def noise_ivar(flux: np.ndarray) -> np.ndarray:
    """A constant inverse variance from the DER_SNR noise estimate, for files without one:
    sigma = 1.482602 / sqrt(6) * median(|2 f_i - f_(i-2) - f_(i+2)|) over finite pixels.
    Every pixel gets it, so NaN or inf flux is reported, not silently masked."""
    finite = flux[np.isfinite(flux)]
    second_difference = np.abs(2 * finite[2:-2] - finite[:-4] - finite[4:])
    sigma = 1.482602 / np.sqrt(6) * np.median(second_difference) if finite.size >= 5 else 0.0
    return np.full(flux.shape, 1.0 / sigma**2 if sigma > 0 else 1.0)


def plain_value(value: Any) -> Any:
    """FITS, numpy and pandas scalars as plain Python values: bytes as text, NaN as None."""
    if isinstance(value, bytes):
        return value.decode().strip()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value.strip() if isinstance(value, str) else value


def write_lamost(path: str | Path, spectrum: Spectrum, andmask: np.ndarray, ormask) -> None:
    """Write the DR1-DR7 layout: 5-row float32 image, `spectrum.meta` as header cards."""
    image = np.vstack([spectrum.flux, spectrum.ivar, spectrum.wavelength, andmask, ormask]).astype(
        np.float32
    )
    fits.PrimaryHDU(image, header=fits.Header(list(spectrum.meta.items()))).writeto(
        path, overwrite=True
    )
