"""What both shipped transports need alike: URL splitting, TLS contexts, proxy settings.

Standard library only, and cheap to import (``ssl`` is imported on first TLS use).  Proxy
settings are read from ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` (either
case, lower case first, as curl and urllib do) without importing ``urllib.request``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, NamedTuple, Union
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import ssl

__all__ = ["Origin", "Verify", "make_ssl_context", "proxy_for", "split_url"]

#: ``True`` (system CAs), a CA bundle path, or a ready ``ssl.SSLContext``.  ``False`` disables
#: verification and must be asked for explicitly; it is never a default.
Verify = Union[bool, str, "ssl.SSLContext"]


# Named tuples, not dataclasses: importing ``dataclasses`` (``inspect``, ``ast``, ``dis``) would
# add about 9 ms to the sync client's first call.
class Origin(NamedTuple):
    scheme: str  # "http" or "https"
    host: str  # without brackets for IPv6
    port: int

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def split_url(url: str) -> tuple[Origin, str]:
    """``(origin, target)`` for an absolute http(s) URL; target is path plus query.

    Raises:
        ValueError: not an absolute http or https URL.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return Origin(scheme, parts.hostname, port), target


def make_ssl_context(verify: Verify = True) -> ssl.SSLContext:
    """A client TLS context: system CAs (or ``verify`` as a CA file/dir), hostname checks on."""
    import ssl

    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True:
        ctx = ssl.create_default_context()
    elif verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        if os.path.isdir(verify):
            ctx = ssl.create_default_context(capath=verify)
        else:
            ctx = ssl.create_default_context(cafile=verify)
    else:
        raise TypeError(f"verify must be True, False, a CA file path or an SSLContext: {verify!r}")
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class Proxy(NamedTuple):
    origin: Origin
    #: ``Proxy-Authorization`` value when the proxy URL carries user:password, else ``None``.
    authorization: str | None

    def __repr__(self) -> str:  # never show credentials
        return f"Proxy({self.origin.scheme}://{self.origin.netloc})"


def _env(name: str) -> str | None:
    return os.environ.get(name.lower()) or os.environ.get(name.upper()) or None


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    host = host.lower().strip("[]")
    for entry in no_proxy.replace(" ", "").split(","):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, eport = entry.partition(":") if entry.count(":") == 1 else (entry, "", "")
        if eport and eport != str(port):
            continue
        name = name.lower().lstrip(".").strip("[]")
        if host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(origin: Origin, environ_lookup: bool = True) -> Proxy | None:
    """The proxy the environment names for ``origin``, or ``None`` (direct, or NO_PROXY)."""
    if not environ_lookup:
        return None
    url = _env(f"{origin.scheme}_proxy") or _env("all_proxy")
    if not url:
        return None
    no_proxy = _env("no_proxy")
    if no_proxy and _bypassed(origin.host, origin.port, no_proxy):
        return None
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"unsupported proxy URL scheme in the environment: {parts.scheme!r}")
    auth = None
    if parts.username is not None:
        import base64

        cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        auth = "Basic " + base64.b64encode(cred).decode("ascii")
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return Proxy(Origin(parts.scheme.lower(), parts.hostname, port), auth)
