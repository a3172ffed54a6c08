"""Ports on 127.0.0.1 for the tests."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on (the kernel's choice; free again once the probe socket closes):
    for a server a test starts, or an address that must refuse connections."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
