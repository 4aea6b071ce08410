"""Running the mock on a socket: uvicorn's configuration, shared by ``letta-mock serve`` and ``LiveServer``."""

from __future__ import annotations

import copy
import logging
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from mockserver.faults import ConnectionDropped

__all__ = ["QuietDrops", "uvicorn_config"]


class QuietDrops(logging.Filter):
    """uvicorn logs every exception that ends a response; a ``drop_after`` fault is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def _log_config() -> dict[str, Any]:
    # uvicorn's own logging configuration (which it installs anyway), with the filter on its error logger.
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["letta_mock_quiet_drops"] = {"()": QuietDrops}
    config["loggers"]["uvicorn.error"]["filters"] = ["letta_mock_quiet_drops"]
    return config


def uvicorn_config(app: Any, *, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="off", log_config=_log_config())
