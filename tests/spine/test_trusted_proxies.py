"""X-Forwarded-For is believed only from RESTOCK_TRUSTED_PROXIES (none by default), on a real
uvicorn server configured as `restock api` configures it."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from cli.serving import proxy_options
from core.settings import Settings


async def echo_client(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers with the client address the app sees."""
    if scope["type"] != "http":
        return
    host = scope["client"][0] if scope.get("client") else "none"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": host.encode()})


def _seen_client(trusted: str) -> str:
    settings = Settings(trusted_proxies=trusted)
    config = uvicorn.Config(
        echo_client, host="127.0.0.1", port=0, log_level="warning", **proxy_options(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        forged = {"X-Forwarded-For": "198.51.100.77"}
        return httpx.get(f"http://127.0.0.1:{port}/", headers=forged).text
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [("", "127.0.0.1"), ("10.0.0.5", "127.0.0.1"), ("127.0.0.1", "198.51.100.77"),
     ("10.0.0.0/8, 127.0.0.0/8", "198.51.100.77")],
)  # fmt: skip
def test_forwarded_for_is_believed_only_from_trusted_proxies(trusted: str, seen: str) -> None:
    assert _seen_client(trusted) == seen
