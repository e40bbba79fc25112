"""Plain-text logs for the long-running commands (the API, the worker, the ERP simulator)."""

from __future__ import annotations

import logging


def configure() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
