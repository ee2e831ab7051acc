"""``client.proxy``: relayed requests (``POST /nextrouter/proxy/{channelid}/{target}``)."""

from __future__ import annotations

from typing import Any, Unpack

from r9s._core.api import PROXY
from r9s._core.params import ProxyParams
from r9s.resources._base import Resource

__all__ = ["Proxy"]


class Proxy(Resource):
    """Relay a JSON request through a gateway channel; ``request`` and ``request_async``."""

    __slots__ = ()

    def request(self, **params: Unpack[ProxyParams]) -> dict[str, Any]:
        """Send ``request_body`` to ``target`` through ``channelid``; the answer as a dict."""
        return self._client._run(PROXY, params)

    async def request_async(self, **params: Unpack[ProxyParams]) -> dict[str, Any]:
        return await self._client._run_async(PROXY, params)
