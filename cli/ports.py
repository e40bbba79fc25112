"""Checking that the ports a process wants are free, with a message a person can act on."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class PortClaim:
    port: int
    owner: str
    env_var: str
    host: str = "127.0.0.1"


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def busy_port_messages(claims: list[PortClaim]) -> list[str]:
    return [
        f"port {c.port} ({c.owner}) is already in use on {c.host}: stop whatever holds it "
        f"(`ss -ltnp 'sport = :{c.port}'` shows it) or choose another with {c.env_var}=…"
        for c in claims
        if port_in_use(c.host, c.port)
    ]


def wait_for_port(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
