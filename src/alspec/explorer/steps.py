"""The explorer's step: `explore` serves a finished iteration in the browser until
Ctrl-C (alspec explore). No rule runs it: it reads what the rules made, and writes only
request files for an iteration that has not chosen its batch."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alspec import layout
from alspec.errors import Unavailable
from alspec.explorer.selection import Neighbours
from alspec.explorer.server import TokenAuth, secret_of
from alspec.explorer.tables import Iteration, load

logger = logging.getLogger(__name__)

ADDRESS = "127.0.0.1"


def free_port(address: str, port: int) -> int:
    """`port` if nothing listens there (0: any free one); an error naming it if taken."""
    with socket.socket() as probe:
        try:
            probe.bind((address, port))
        except OSError:
            raise Unavailable(
                f"port {port} on {address} is in use: choose another with --port"
            ) from None
        return probe.getsockname()[1]


def prepared(results: Path, iteration: int | None) -> tuple[Iteration, Neighbours | None]:
    """The iteration's table and neighbour index, with the map's aggregation compiled
    while the table is read (both before the first page is served)."""
    from alspec.explorer.charts import warm_up  # HoloViews and Panel: only when serving

    with ThreadPoolExecutor(1) as compiler:
        compiling = compiler.submit(warm_up)
        finished = load(Path(results), iteration)
        compiling.result()
    store = finished.pool / layout.NEIGHBOURS
    if not store.exists():
        logger.warning(f"{store}: no neighbour index, so no 'more like this'")
        return finished, None
    return finished, Neighbours(store, finished.table["id"])


def explore(
    *,
    results: Path = Path(layout.RESULTS),
    iteration: int | None = None,
    port: int = 0,
    ready: Callable[[str], None] = print,
) -> None:
    """The explore step: serve iteration `iteration` (None: the last finished) of
    `results` at 127.0.0.1:`port` (0: a free one) behind the results' secret; `ready`
    gets the page's URL once it is served. Runs until interrupted."""
    import panel as pn

    from alspec.explorer.app import Explorer

    port = free_port(ADDRESS, port)
    finished, neighbours = prepared(Path(results), iteration)
    secret = secret_of(Path(results))
    server = pn.serve(
        {"/": lambda: Explorer(finished, neighbours).page()},
        port=port,
        address=ADDRESS,
        websocket_origin=[f"{ADDRESS}:{port}", f"localhost:{port}"],
        show=False,
        start=False,
        title=f"alspec explorer, iteration {finished.number}",
        auth_provider=TokenAuth(secret),
    )
    server.start()
    ready(f"http://{ADDRESS}:{port}/?token={secret}")
    try:
        server.io_loop.start()
    finally:
        server.stop()
