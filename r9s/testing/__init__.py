"""A local OpenAI-compatible server for tests, the README demo and benchmarks.

Why: exercising an HTTP SDK honestly needs a real server (sockets, keep-alive, chunked
streams, gzip, broken connections), but tests must not need the network or an API key.
``FakeServer`` answers ``/v1/chat/completions``, ``/v1/completions``, ``/v1/responses``,
``/v1/models``, ``/v1/embeddings``, the gateway's other JSON endpoints, images, audio and the
Anthropic Messages API (``/v1/messages``) deterministically on loopback and misbehaves on
request (``Fault``).  Standard library only.

    from r9s.testing import FakeServer, Fault

    with FakeServer() as server:
        server.add_fault(Fault(status=503, retry_after=1), times=2)
        ...  # point a client at server.url

From a shell: ``python -m r9s.testing --port 8080``.
"""

from __future__ import annotations

from r9s.testing._cli import main
from r9s.testing._fault import BodyKind, Fault
from r9s.testing._server import FakeServer, RecordedRequest

__all__ = ["BodyKind", "FakeServer", "Fault", "RecordedRequest", "main"]
