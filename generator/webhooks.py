"""Kit-job webhooks: the signed POST, and which callback URLs a job may name (no requests into the server's own
network unless allowed: a callback_url is a request the server makes on a client's behalf)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-CVJ-Signature"

PostFn = Callable[[str, bytes, Mapping[str, str], float], int]
"""``post(url, body, headers, timeout_s) -> HTTP status``; raises (``OSError``) when nothing answered."""


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def signature(secret: str | bytes, body: bytes) -> str:
    """The ``X-CVJ-Signature`` value for ``body``: ``sha256=`` and the hex HMAC-SHA256 keyed with ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """For a receiver: does the header sign this body with this secret? (constant-time)"""
    return header is not None and hmac.compare_digest(signature(secret, body), header)


def callback_refusal(url: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why the server will not POST to ``url`` (None: it will). With ``allowed_hosts``, only those hosts; without,
    any host whose every address is public (not loopback, private, link-local, reserved or multicast)."""
    host = (urlsplit(url).hostname or "").lower()
    allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
    if allowed:
        return None if host in allowed else f"callback_url's host {host!r} is not one of the server's CVJ_WEBHOOK_HOSTS"
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return f"callback_url's host {host!r} does not resolve"
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            return (f"callback_url's host {host!r} is a private, loopback or reserved address ({ip}); list it in "
                    "the server's CVJ_WEBHOOK_HOSTS to allow it")  # fmt: skip
    return None
