"""The real app on a real socket: uvicorn in a background thread on a free port of 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn

from aifactory.api.app import create_app
from aifactory.config import Settings
from aifactory.demo import DemoInfo

HOST = "127.0.0.1"


@dataclass
class LiveServer:
    url: str
    info: DemoInfo
    thread: threading.Thread
    server: uvicorn.Server = field(repr=False)

    def token(self, email: str) -> str:
        return self.info.tokens[email]


def free_port() -> int:
    with socket.create_server((HOST, 0)) as s:
        return int(s.getsockname()[1])


@contextmanager
def live_server(settings: Settings, info: DemoInfo, start_timeout: float = 10) -> Iterator[LiveServer]:
    """The app of ``settings`` served until the block ends (``info``: the demo in its database)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield LiveServer(url=f"http://{HOST}:{port}", info=info, thread=thread, server=server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
