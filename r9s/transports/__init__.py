"""Transports move bytes; they decide nothing about the API.

``base`` defines the two protocols (sync and async) any transport satisfies; ``urllib`` is the
standard-library sync transport, ``h11_anyio`` the async one (asyncio and trio), ``mock`` calls a
function of yours instead of the network.  Modules are imported only when used.
"""
