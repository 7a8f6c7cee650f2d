"""Stand-in for `st2common.runners.base_action`: the base class Python actions inherit from."""

from __future__ import annotations

import abc
import logging
import sys
from typing import Any


def _action_logger(name: str, level: str) -> logging.Logger:
    # Like st2, action log lines go to stderr, where the runner captures them.
    logger = logging.getLogger(f"actions.python.{name}")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(getattr(logging, level.upper(), logging.DEBUG))
    return logger


class Action(abc.ABC):
    """Base action class: subclass it and implement `run(**parameters)`."""

    description: str | None = None

    def __init__(self, config: dict[str, Any] | None = None, action_service: Any = None) -> None:
        self.config = config or {}
        self.action_service = action_service
        self.logger = _action_logger(type(self).__name__, "debug")

    @abc.abstractmethod
    def run(self, **kwargs: Any) -> Any:
        """Do the work; return a result, or `(succeeded: bool, result)`."""
