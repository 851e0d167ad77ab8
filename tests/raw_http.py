"""A request that declares its body and waits before sending it: did the server answer
without reading the body (a check that comes first), or does it wait for it?"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


class DeclaredBody:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def status_before_body(self, wait: float = 2.0) -> int | None:
        """The status the server answered with before any byte of the body, or None when it
        is still waiting for the body after ``wait`` seconds."""
        self.sock.settimeout(wait)
        try:
            head = self.sock.recv(4096)
        except TimeoutError:
            return None
        return _status(head)

    def send_body(self, body: bytes, wait: float = 10.0) -> int | None:
        """Send the body now; the status answered after it."""
        self.sock.settimeout(wait)
        self.sock.sendall(body)
        return _status(self.sock.recv(4096))


def _status(head: bytes) -> int | None:
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@contextmanager
def declared_body(
    base_url: str, path: str, *, size: int, headers: dict[str, str] | None = None
) -> Iterator[DeclaredBody]:
    """POST ``path`` with ``Content-Length: size`` and the headers, and not a byte of body."""
    parts = urlsplit(base_url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {parts.hostname}", f"Content-Length: {size}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), 10)
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        yield DeclaredBody(sock)
    finally:
        sock.close()
