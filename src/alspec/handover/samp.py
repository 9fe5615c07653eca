"""Send candidates to the VO tools an astronomer has open, over SAMP.

A table goes to TOPCAT (or any client subscribed to `table.load.votable`) by the file's
URL; a position goes to Aladin (`coord.pointAt.sky`). The hub is found as astropy finds
it: $SAMP_HUB, else the lockfile ~/.samp that TOPCAT or Aladin writes when they start one.
SAMP is pyvo's: astropy.samp moved there (deprecated in astropy 8), the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from astropy.table import Table
from pyvo.samp import SAMPHubError, SAMPIntegratedClient

from alspec.errors import InputError, MissingInput, Unavailable

logger = logging.getLogger(__name__)

TABLE, POINT = "table.load.votable", "coord.pointAt.sky"


@contextmanager
def connected(name: str = "alspec") -> Iterator:
    """A SAMP client registered with the running hub, unregistered afterwards."""
    client = SAMPIntegratedClient(name=name, description="alspec: candidates of a learning session")
    try:
        client.connect()
    except SAMPHubError:
        raise Unavailable(
            "no SAMP hub is running: start TOPCAT or Aladin (either starts one), then send again"
        ) from None
    try:
        yield client
    finally:
        client.disconnect()


def recipients(client, mtype: str, to: str | None) -> dict[str, str]:
    """The clients subscribed to `mtype` (id: name), only those named `to` if given."""
    found = {}
    for client_id in client.get_subscribed_clients(mtype):
        name = client.get_metadata(client_id).get("samp.name", client_id)
        if to is None or name.lower() == to.lower():
            found[client_id] = name
    if not found:
        whom = f"named {to!r} " if to else ""
        raise Unavailable(f"no SAMP client {whom}accepts {mtype}: open TOPCAT or Aladin")
    return found


def send_table(path: str | Path, *, to: str | None = None, name: str | None = None) -> list[str]:
    """Load the VOTable at `path` in every client that takes tables (or the one named
    `to`, e.g. "topcat"). Returns the names of those it went to."""
    path = Path(path).resolve()
    if not path.exists():
        raise MissingInput(f"{path}: no such file")
    message = {
        "samp.mtype": TABLE,
        "samp.params": {"url": path.as_uri(), "table-id": str(path), "name": name or path.stem},
    }
    return _notify(message, to)


def point_at(ra: float, dec: float, *, to: str | None = None) -> list[str]:
    """Centre the sky viewers (Aladin) on `ra`, `dec` (degrees)."""
    message = {"samp.mtype": POINT, "samp.params": {"ra": repr(float(ra)), "dec": repr(float(dec))}}
    return _notify(message, to)


def _notify(message: dict, to: str | None) -> list[str]:
    with connected() as client:
        chosen = recipients(client, message["samp.mtype"], to)
        for client_id in chosen:
            client.notify(client_id, message)
    logger.info("SAMP: %s sent to %s", message["samp.mtype"], ", ".join(chosen.values()))
    return list(chosen.values())


def position_of(table: str | Path, spectrum: str) -> tuple[float, float]:
    """RA and Dec (degrees) of `spectrum` in the VOTable catalogue `table`."""
    rows = Table.read(table, format="votable")
    found = rows[[str(i) == spectrum for i in rows["id"]]]
    if not len(found):
        raise InputError(f"{table}: no spectrum {spectrum}")
    return float(found["ra"][0]), float(found["dec"][0])
