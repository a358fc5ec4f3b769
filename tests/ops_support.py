"""Shared by the operations tests: a switch in front of the real model server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from scripts.devstack import Stack


class ModelSwitch:
    """A pass-through to the real model server that refuses (503) while ``down``."""

    def __init__(self) -> None:
        self.down = True
        self.target = ""
        switch = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if switch.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                answer = httpx.post(
                    switch.target + self.path,
                    content=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                    timeout=10,
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def through_switch(build: Any, stack: Stack, switch: ModelSwitch) -> Any:
    def wrapped() -> None:
        build()
        switch.target = stack.services["credit"].env["MODEL_URL"]
        stack.services["credit"].env["MODEL_URL"] = switch.url

    return wrapped
