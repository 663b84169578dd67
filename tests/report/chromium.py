"""A headless Chromium driven over its DevTools protocol: open a page, then say what it logged and fetched.

The browser is the system's own (`/usr/bin/chromium`); the protocol runs over a websocket on loopback, so
a test downloads nothing. The flags keep the browser from calling home (background networking, component
updates, sync), which a closed network would refuse with errors of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",  # the browser picks a free port and writes it to DevToolsActivePort
)
TIMEOUT = 30.0


# The Debian package's launcher, by name on PATH first, then where Debian puts it.
CANDIDATES = ("chromium", "/usr/bin/chromium")
INSTALL = "Chromium is not installed; on Debian or Ubuntu: apt-get install -y chromium"


def executable() -> str:
    """The Chromium to run; fails the test if CLUSTERBRIDGE_REQUIRE_BROWSER=1 and there is none, else skips it."""
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    if os.environ.get("CLUSTERBRIDGE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{INSTALL} (CLUSTERBRIDGE_REQUIRE_BROWSER=1 requires it)")
    pytest.skip(INSTALL)


@dataclass
class PageVisit:
    """What happened while a page loaded: console and log errors, uncaught exceptions, requested URLs."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Browser:
    """One running Chromium and the DevTools connection to it."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer, keeping the events that arrive meanwhile."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self._events.append(reply)

    def _receive(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("Chromium did not answer in time")
        loaded: dict[str, Any] = json.loads(self._socket.recv(timeout=remaining))
        return loaded

    def wait_for(self, method: str, session: str) -> None:
        """Wait until the page's session reports `method` (an event)."""
        deadline = time.monotonic() + TIMEOUT
        while not any(event["method"] == method and event.get("sessionId") == session for event in self._events):
            event = self._receive(deadline)
            if "method" in event:
                self._events.append(event)

    def visit(self, url: str, expression: str) -> tuple[PageVisit, Any]:
        """Open `url` in a new tab, wait for its load event, and evaluate `expression` (a JSON-able value)."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self._events.clear()
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(f"{domain}.enable", session)
        self.call("Page.navigate", session, url=url)
        self.wait_for("Page.loadEventFired", session)
        value = self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        self.call("Target.closeTarget", targetId=target)
        return self._visit(session), value["result"].get("value")

    def _visit(self, session: str) -> PageVisit:
        visit = PageVisit()
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            params = event["params"]
            match event["method"]:
                case "Runtime.consoleAPICalled" if params["type"] in {"error", "assert"}:
                    words = (str(arg.get("value", arg.get("description"))) for arg in params["args"])
                    visit.errors.append(" ".join(words))
                case "Runtime.exceptionThrown":
                    visit.errors.append(params["exceptionDetails"].get("text", "exception"))
                case "Log.entryAdded" if params["entry"]["level"] == "error":
                    visit.errors.append(params["entry"]["text"])
                case "Network.requestWillBeSent":
                    visit.requests.append(params["request"]["url"])
        return visit


@contextmanager
def chromium(profile: Path) -> Iterator[Browser]:
    """Start a headless Chromium with a fresh profile in `profile`; stop it on exit."""
    process = subprocess.Popen(
        [executable(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if process.poll() is not None:
                raise RuntimeError(f"Chromium exited with status {process.returncode} before it listened")
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=TIMEOUT) as socket:
            yield Browser(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
