"""Where events go when no Alertmanager is configured: one line each on the console."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from tfprod.runtime.notify.events import ControllerEvent


class ConsoleNotifier:
    """Writes each event as one line to `stream` (default: standard output)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def __aenter__(self) -> ConsoleNotifier:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def publish(self, event: ControllerEvent) -> None:
        stream = self._stream or sys.stdout
        stream.write(event.console_line() + "\n")
        stream.flush()

    async def drain(self, timeout_s: float) -> bool:
        return True
