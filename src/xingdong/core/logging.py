"""Structured logs with structlog: JSON lines in production, readable lines in a terminal.
A request id is bound to every line logged while serving a request."""

from __future__ import annotations

import logging
import sys

import structlog

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def logger_levels(text: str) -> dict[str, str]:
    """``name=LEVEL`` pairs joined by commas (``procrastinate=WARNING,sqlalchemy=INFO``)
    as a mapping; raises ValueError saying which part is wrong."""
    levels: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, level = part.partition("=")
        name, level = name.strip(), level.strip().upper()
        if not sep or not name:
            raise ValueError(f"{part.strip()!r} is not name=LEVEL")
        if level not in LEVELS:
            raise ValueError(f"{part.strip()!r}: the level is one of {', '.join(LEVELS)}")
        levels[name] = level
    return levels


def configure_logging(*, level: str = "INFO", as_json: bool = True, loggers: str = "") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        # Drop lines below the level before any work is done on them.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name, own in logger_levels(loggers).items():
        logging.getLogger(name).setLevel(own)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
