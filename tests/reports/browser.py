"""Drive headless Chromium over the DevTools protocol (``websockets`` sync client).

Event-driven, no sleeps: the browser's websocket URL is read from its stderr line
``DevTools listening on ws://...``, and a page counts as loaded when ``Page.loadEventFired``
arrives. Everything the page logs, throws, or requests over the network is collected, so a
test can assert "no console errors" and "no network at all".
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars", "--mute-audio",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageLog:
    """What a page did while it loaded."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, profile: Path, timeout_s: float = 30.0) -> None:
        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium is not installed")
        self.timeout = timeout_s
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--window-size=1280,1800", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "LANG": "C.UTF-8"},
        )
        self.stderr: list[str] = []
        self._stack = contextlib.ExitStack()  # websockets >= 17.1 wants connect() entered
        self._id = 0
        self._events: list[dict[str, Any]] = []
        try:
            url = self._devtools_url()
            self.ws: ClientConnection = self._stack.enter_context(
                connect(url, max_size=None, open_timeout=timeout_s))
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self._call("Target.attachToTarget",
                                      {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable")
        except BaseException:
            self.close()
            raise

    def _devtools_url(self) -> str:
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                lines.put(line)
            lines.put(None)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        while True:
            line = lines.get(timeout=self.timeout)
            if line is None:
                raise RuntimeError("chromium exited: " + "".join(self.stderr[-5:]))
            self.stderr.append(line)
            m = _LISTENING.search(line)
            if m:
                return m.group(1)

    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> int:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        return self._id

    def _call(self, method: str, params: dict[str, Any] | None = None,
              session: str | None = None) -> dict[str, Any]:
        want = self._send(method, params, session)
        while True:
            msg = json.loads(self.ws.recv(timeout=self.timeout))
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            if "method" in msg:
                self._events.append(msg)

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command in the page's session."""
        return self._call(method, params, self.session)

    def load(self, url: str) -> PageLog:
        """Navigate and wait for the load event; return what the page logged and requested."""
        self._events.clear()
        self.call("Page.navigate", {"url": url})
        while not any(e["method"] == "Page.loadEventFired" for e in self._events):
            msg = json.loads(self.ws.recv(timeout=self.timeout))
            if "method" in msg:
                self._events.append(msg)
        self.call("Runtime.evaluate", {"expression": "1"})  # flush events queued before load
        return self._log(url)

    def _log(self, page_url: str) -> PageLog:
        log = PageLog()
        for e in self._events:
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                log.console_errors.append(json.dumps(p.get("args", [])))
            elif e["method"] == "Runtime.exceptionThrown":
                log.exceptions.append(json.dumps(p.get("exceptionDetails", {})))
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                log.log_errors.append(p["entry"].get("text", ""))
            elif e["method"] == "Network.requestWillBeSent":
                url = p.get("request", {}).get("url", "")
                if url != page_url:
                    log.requests.append(url)
        return log

    def text(self) -> str:
        """``document.body.innerText``: what a reader sees (hidden text excluded)."""
        res = self.call("Runtime.evaluate", {"expression": "document.body.innerText",
                                             "returnByValue": True})
        return str(res["result"]["value"])

    def evaluate(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return res["result"].get("value")

    def screenshot(self, path: Path, clip: tuple[float, float, float, float] | None = None) -> Path:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if clip is not None:
            x, y, w, h = clip
            params["clip"] = {"x": x, "y": y, "width": w, "height": h, "scale": 1}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", params)["data"]))
        return path

    def pdf(self, path: Path) -> Path:
        data = self.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def close(self) -> None:
        try:
            self._stack.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self._pump.join(timeout=10)  # stderr reaches EOF once the browser has exited
            if self.proc.stderr is not None:
                self.proc.stderr.close()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pdf_pages(path: Path) -> int:
    """Pages in a PDF written by Chromium (Skia writes one ``/Type /Page`` per page)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", path.read_bytes()))
