"""A headless Chromium driven over the Chrome DevTools Protocol (CDP), for the explorer page.

``Browser`` starts ``chromium --headless --remote-debugging-port=0`` with a fresh profile, reads
the port from ``DevToolsActivePort`` and talks CDP over one websocket (the ``websockets``
package, imported lazily). ``Page`` records what a page did while it was open: console messages,
uncaught exceptions and every network request, so a caller can assert that a page is
self-contained (no request but the file itself, no errors), evaluate JavaScript in it and save a
PNG screenshot. No browser download: the system Chromium is used (``$SCALING_CHROMIUM`` or the
first of ``chromium``, ``chromium-browser``, ``google-chrome`` on ``PATH``).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaling.errors import ScalingError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
)


def find_chromium() -> str:
    """The Chromium executable: ``$SCALING_CHROMIUM`` or the first candidate on ``PATH``."""
    if env := os.environ.get("SCALING_CHROMIUM"):
        if shutil.which(env) is None:
            raise ScalingError(
                f"$SCALING_CHROMIUM={env} is not an executable; point it at a Chromium binary"
            )
        return env
    for name in CANDIDATES:
        if path := shutil.which(name):
            return path
    raise ScalingError(
        "no Chromium browser found on PATH (tried chromium, chromium-browser, google-chrome); "
        "install it (Debian: apt-get install chromium) or set $SCALING_CHROMIUM"
    )


@dataclass
class Page:
    """One open tab: what it logged and requested, plus ``evaluate`` and ``screenshot``."""

    browser: Browser
    session: str
    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    loads: int = 0  # load events seen

    def call(self, method: str, **params: Any) -> dict:
        return self.browser.call(method, session=self.session, **params)

    @property
    def errors(self) -> list[str]:
        """Console errors, log-entry errors and uncaught exceptions, in order of arrival."""
        return [text for level, text in self.console if level == "error"] + self.exceptions

    def evaluate(self, expression: str, *, timeout: float | None = None) -> Any:
        """Value of a JavaScript expression (promises awaited), returned by value as JSON."""
        reply = self.browser.call(
            "Runtime.evaluate",
            session=self.session,
            timeout=timeout,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise RuntimeError(f"JavaScript error: {text}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout:g} s waiting for {expression}")
            time.sleep(0.02)

    def mouse(self, x: float, y: float, *, click: bool = False) -> None:
        """Move the mouse to viewport pixel (x, y), then press and release the left button."""
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        if click:
            for kind in ("mousePressed", "mouseReleased"):
                self.call(
                    "Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1
                )

    def screenshot(self, path: str | Path, *, full_page: bool = True) -> Path:
        """Save a PNG of the viewport (or of the whole page) to ``path``."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
            params |= {"captureBeyondViewport": True, "clip": clip}
        data = self.call("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def _on_event(self, method: str, params: dict) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console.append((params["type"], text))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.console.append((entry["level"], f"{entry.get('url', '')} {entry['text']}"))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.exceptions.append(
                details.get("exception", {}).get("description") or details.get("text", "")
            )
        elif method == "Page.loadEventFired":
            self.loads += 1
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])


class Browser:
    """A headless Chromium process and its DevTools websocket; use as a context manager."""

    def __init__(
        self,
        executable: str | None = None,
        *,
        width: int = 1600,
        height: int = 1000,
        timeout: float = 30.0,
    ):
        self.executable = executable or find_chromium()
        self.width, self.height, self.timeout = width, height, timeout
        self._ids = itertools.count(1)
        self._pages: dict[str, Page] = {}
        self._proc: subprocess.Popen | None = None
        self._ws = None
        self._stack = contextlib.ExitStack()
        self._profile: str | None = None

    def __enter__(self) -> Browser:
        try:
            from websockets.sync.client import connect
        except ImportError as e:
            raise ScalingError(
                "driving Chromium needs the 'websockets' package; pip install 'websockets>=15'"
            ) from e
        self._profile = tempfile.mkdtemp(prefix="scaling-chromium-")
        self._proc = subprocess.Popen(
            [
                self.executable,
                *FLAGS,
                f"--window-size={self.width},{self.height}",
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            port, path = self._devtools_address()
            self._ws = self._stack.enter_context(
                connect(
                    f"ws://127.0.0.1:{port}{path}",
                    max_size=None,
                    proxy=None,
                    compression=None,
                    open_timeout=self.timeout,
                )
            )
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _devtools_address(self) -> tuple[str, str]:
        marker = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ScalingError(
                    f"{self.executable} exited with status {self._proc.returncode} at start; "
                    "run it by hand with --headless to see why"
                )
            lines = marker.read_text().split("\n") if marker.exists() else []
            if len(lines) >= 2 and lines[1]:
                return lines[0], lines[1]
            time.sleep(0.05)
        raise ScalingError(f"{self.executable} did not open its DevTools port in {self.timeout} s")

    def call(
        self, method: str, *, session: str | None = None, timeout: float | None = None, **params
    ) -> dict:
        """Send one CDP command and return its result, dispatching events that arrive first."""
        msg_id = next(self._ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {method} within {timeout or self.timeout:g} s")
            reply = json.loads(self._ws.recv(timeout=left))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply and (page := self._pages.get(reply.get("sessionId"))):
                page._on_event(reply["method"], reply.get("params", {}))

    def new_page(self) -> Page:
        """A fresh tab at the browser's size, recording console, exceptions and requests."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        self._pages[session] = page
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.call(f"{domain}.enable")
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )
        return page

    def open(self, url: str, *, ready: str | None = None, timeout: float = 30.0) -> Page:
        """Open ``url`` in a new tab; wait for the load event and then for ``ready`` (JS)."""
        page = self.new_page()
        page.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while not page.loads:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not finish loading within {timeout:g} s")
            page.evaluate("0")  # lets the events that arrived meanwhile be dispatched
            time.sleep(0.02)
        if ready:
            page.wait_for(ready, timeout)
        return page

    def close(self) -> None:
        """End the browser (politely, then by its process id) and remove its profile."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.send(json.dumps({"id": next(self._ids), "method": "Browser.close"}))
            with contextlib.suppress(Exception):
                self._stack.close()
            self._ws = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
