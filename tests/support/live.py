"""The real app on a real socket: uvicorn in a background thread on a free port of 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@contextmanager
def demo_with_mail(template: Path, folder: Path, smtp_port: int, **extra: Any) -> Iterator[LiveServer]:
    """The app on a fresh copy of the demo (seeded from the migrated ``template``), its reconciler every 0.3 s
    delivering e-mails to the SMTP server on ``smtp_port`` of this machine (the tests' aiosmtpd sink)."""
    from .demo import seed_demo_sqlite  # here: the demo's module imports the store, not needed by plain servers

    seeded = seed_demo_sqlite(template, folder / "portal.db")
    settings = Settings(
        database_url=seeded.url,
        data_dir=folder / "data",
        reconcile_seconds=0.3,
        env="test",
        smtp_host=HOST,
        smtp_port=smtp_port,
        **extra,
    )
    with live_server(settings, seeded.info) as server:
        yield server
