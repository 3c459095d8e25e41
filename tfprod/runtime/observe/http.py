"""The HTTP session both observe sources hold while the controller runs (`async with`)."""

from __future__ import annotations

from types import TracebackType
from typing import Self

import aiohttp


class HttpSource:
    """Opens one aiohttp session on entry, with a total timeout per request, and closes it on
    exit; `_session` is None outside the `async with`."""

    def __init__(self, *, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout_seconds)
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
