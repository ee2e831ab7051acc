"""``r9s.protocol`` driven by another HTTP stack (plain http.client) against the local server."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from r9s import protocol
from r9s.testing import FakeServer


def test_protocol_with_http_client() -> None:
    with FakeServer() as server:
        req = protocol.build_request(
            "chat.create",
            api_key="k",
            server_url=server.url,
            model="m",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
        )
        url = urlsplit(req.url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        try:
            conn.request(req.method, url.path, body=req.body, headers=dict(req.headers.raw()))
            resp = conn.getresponse()
            dec = protocol.stream_decoder("chat.create", resp.status, resp.getheaders())
            text = ""
            for _ in range(10_000):  # bounded
                piece = resp.read1(65536)
                if not piece:
                    break
                for chunk in dec.feed(piece):
                    if chunk.choices:
                        text += chunk.choices[0].delta.content or ""
                if dec.done:
                    break
            assert dec.done and dec.error is None
            assert text == "Hello! You said: Hi"
            resp.read()
        finally:
            conn.close()
