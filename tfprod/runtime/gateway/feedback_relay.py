"""Relaying feedback to the replica that issued its request id, so that it is counted once.

Each replica deduplicates in its own window (see the feedback module), so a replay that reaches
another replica than the first event would count again. A replica with an address its peers
reach (`tfprod gateway --advertise-address`; in a cluster the pod IP, given by the Kubernetes
downward API) puts that base URL in every id it issues. A replica receiving feedback for an id
another replica owns posts the same body to the owner's `/v1/feedback` and answers with the
owner's status and body, so the owner's window sees every event of its ids.

The relayed request carries `X-Tfprod-Relayed: <tag>` and the owner's answer
`X-Tfprod-Relay-Ack: <tag>`, both MACs of the request id with the feedback key (see
`RequestIds.tag`) for their own purpose: a caller cannot make an event count where it arrived
by sending the header itself, and an answer from something that is not a gateway with the key
(the owner's pod IP reused by another pod) is not taken for the owner's.

When the owner cannot be reached within `RELAY_TIMEOUT_SECONDS` or does not answer as a
gateway, the event counts where it arrived and `tfprod_gateway_feedback_relayed_total` says
so (`outcome="unreachable"`): while an owner is gone, each replica's own window catches the
replays that reach it, as before relaying. A restarted owner at the same address keeps
counting its predecessor's ids, with a fresh window.
"""

from __future__ import annotations

from typing import Final

import aiohttp
from aiohttp import web

from tfprod.runtime.gateway.request_ids import RequestIds

RELAYED_HEADER: Final = "X-Tfprod-Relayed"
ACK_HEADER: Final = "X-Tfprod-Relay-Ack"
RELAY_TIMEOUT_SECONDS: Final = 2.0
_RELAYED: Final = "relayed"
_ACK: Final = "relay-ack"


class FeedbackRelay:
    """Posts feedback bodies to the owners of their ids, and tags the answers to relayed ones."""

    def __init__(self, ids: RequestIds) -> None:
        self.ids = ids
        self._session: aiohttp.ClientSession | None = None

    def is_relayed(self, request: web.Request, request_id: str) -> bool:
        """Whether another replica with the key relayed this request to its owner (here)."""
        return self.ids.tagged(_RELAYED, request_id, request.headers.get(RELAYED_HEADER))

    def acknowledge(self, answer: web.Response, request_id: str) -> web.Response:
        """Marks this replica's answer to a relayed request as a gateway's with the key."""
        answer.headers[ACK_HEADER] = self.ids.tag(_ACK, request_id)
        return answer

    async def relay(self, owner: str, request_id: str, body: bytes) -> web.Response | None:
        """The owner's answer to `body`, or None when it could not be had from a gateway."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=RELAY_TIMEOUT_SECONDS)
            )
        headers = {
            RELAYED_HEADER: self.ids.tag(_RELAYED, request_id),
            "Content-Type": "application/json",
        }
        try:
            async with self._session.post(
                f"{owner}/v1/feedback", data=body, headers=headers
            ) as answer:
                content = await answer.read()
                acknowledged = self.ids.tagged(_ACK, request_id, answer.headers.get(ACK_HEADER))
                status = answer.status
        except (aiohttp.ClientError, TimeoutError):
            return None
        if not acknowledged:
            return None
        return web.Response(status=status, body=content, content_type="application/json")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
