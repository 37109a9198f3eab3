"""A real Ethereum node for tests: anvil, from the npm package @foundry-rs/anvil-linux-amd64
(found or installed by tests.npm_tools.require_anvil)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Node:
    """JSON-RPC client of one running anvil."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._id = 0

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = json.dumps(
            {"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}
        ).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            reply = json.load(response)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]


@contextmanager
def running_anvil(binary: Path, genesis: Path, gas_limit: int) -> Iterator[Node]:
    """Start anvil on 127.0.0.1 from ``genesis``; stop it by its own PID afterwards."""
    port = _free_port()
    log = genesis.with_suffix(".log")
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [
                str(binary),
                "--init",
                str(genesis),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--accounts",
                "0",
                "--gas-limit",
                str(gas_limit),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    node = Node(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"anvil exited with {proc.returncode}: {log.read_text()}")
            try:
                node.call("eth_blockNumber")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"anvil did not answer in 30 s: {log.read_text()}") from None
                time.sleep(0.1)
        yield node
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
