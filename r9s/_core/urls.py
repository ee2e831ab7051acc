"""Credentials in URLs: taken out of the URL a request is sent to, and never shown.

A server URL may carry ``user:password@`` (a gateway behind a basic-auth proxy).  The core
sends them as ``Authorization: Basic``, as httpx (under the published SDK) does, and builds
the request URL without them, so no request line, repr, log record or error message made from
a request can show them; ``redact_url`` hides them in the configured URLs r9s prints.
"""

from __future__ import annotations

__all__ = ["redact_url", "split_credentials"]


def _userinfo_end(url: str) -> int:
    """The index of the ``@`` ending the URL's userinfo, or -1."""
    start = url.find("://")
    if start < 0:
        return -1
    start += 3
    end = len(url)
    for ch in "/?#":
        i = url.find(ch, start)
        if 0 <= i < end:
            end = i
    return url.rfind("@", start, end)


def redact_url(url: object) -> object:
    """``url`` with its userinfo replaced by ``***`` (anything not a string as it is)."""
    if not isinstance(url, str):
        return url
    at = _userinfo_end(url)
    if at < 0:
        return url
    start = url.find("://") + 3
    return url[:start] + "***" + url[at:]


def split_credentials(url: str) -> tuple[str, tuple[str, ...] | None]:
    """``(url without userinfo, secrets)``: secrets are ``(base64 of user:password,
    user:password, password...)`` for ``Authorization: Basic`` and for redaction, or ``None``
    when the URL has no userinfo."""
    at = _userinfo_end(url)
    if at < 0:
        return url, None
    import base64
    from urllib.parse import unquote

    start = url.find("://") + 3
    info = url[start:at]
    user, _, password = info.partition(":")
    pair = f"{unquote(user)}:{unquote(password)}"
    token = base64.b64encode(pair.encode("utf-8")).decode("ascii")
    secrets = [token, pair, info]
    if password:
        secrets += [unquote(password), password]
    return url[:start] + url[at + 1 :], tuple(dict.fromkeys(secrets))
