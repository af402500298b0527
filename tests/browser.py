"""Drive headless Chromium from tests through the Chrome DevTools Protocol.

Pure standard library: Chromium is started with ``--remote-debugging-pipe`` and
speaks CDP over file descriptors 3 (commands in) and 4 (replies and events out),
NUL-separated JSON messages. No port is opened and no websocket client is needed.

Usage::

    with Chromium() as browser:
        page = browser.open_page("file:///tmp/report/index.html")
        page.wait_for("document.querySelectorAll('.main-svg').length > 0")
        assert not page.errors()
        page.screenshot("/tmp/report.png")
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", "--remote-debugging-pipe",
]
# Installed before any page script runs: records dialogs even if CDP missed one.
_DIALOG_TRAP = """
window.__dialogs = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = function (msg) { window.__dialogs.push(name + ":" + String(msg)); return null; };
}
"""


class CdpError(RuntimeError):
    """A CDP command failed or Chromium stopped answering."""


class Chromium:
    """A headless Chromium process with a fresh profile, driven over the DevTools pipe.

    Args:
        binary: The Chromium executable.
        timeout: Seconds to wait for any one CDP reply.
    """

    def __init__(self, binary: str = CHROMIUM, timeout: float = 60.0) -> None:
        self.binary = binary
        self.timeout = timeout
        self._next_id = 0
        self._lock = threading.Lock()
        self._replies: dict[int, queue.Queue] = {}
        self.events: list[dict[str, Any]] = []
        self._events_lock = threading.Lock()

    # -- process -----------------------------------------------------------------------------
    def __enter__(self) -> Chromium:
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # CDP over a pipe wants the child's fds 3 (in) and 4 (out). Move our ends to fds >= 10 so they
        # can never collide with 3 and 4, and let bash wire them just before it execs Chromium.
        child_r, child_w = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child_r, from_child_w))
        os.close(to_child_r)
        os.close(from_child_w)
        wiring = f'exec "$@" 3<&{child_r} 4>&{child_w} {child_r}<&- {child_w}>&-'
        self.proc = subprocess.Popen(
            ["bash", "-c", wiring, "chromium", self.binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=(child_r, child_w),
        )
        os.close(child_r)
        os.close(child_w)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        self.send("Target.setDiscoverTargets", {"discover": False})  # proves the pipe works
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except CdpError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_loop(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 20)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        slot = self._replies.get(message["id"])
                    if slot is not None:
                        slot.put(message)
                else:
                    with self._events_lock:
                        self.events.append(message)

    # -- protocol ----------------------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Send one CDP command and return its ``result``; raise CdpError on error or timeout."""
        with self._lock:
            self._next_id += 1
            msg_id = self._next_id
            slot: queue.Queue = queue.Queue(maxsize=1)
            self._replies[msg_id] = slot
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._to_child, view):]
            reply = slot.get(timeout=timeout or self.timeout)
        except (OSError, queue.Empty) as exc:
            raise CdpError(f"{method}: no reply from Chromium ({exc!r}); stderr: {self._stderr_tail()}") from None
        finally:
            with self._lock:
                self._replies.pop(msg_id, None)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _stderr_tail(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return (self.proc.stderr.read() or b"")[-2000:].decode(errors="replace") if self.proc.stderr else ""

    def session_events(self, session: str) -> list[dict[str, Any]]:
        with self._events_lock:
            return [e for e in self.events if e.get("sessionId") == session]

    def open_page(self, url: str, *, width: int = 1366, height: int = 900) -> Page:
        """Open ``url`` in a new tab sized like a laptop screen; wait for its load event."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        page.send("Page.addScriptToEvaluateOnNewDocument", {"source": _DIALOG_TRAP})
        page.navigate(url)
        return page


class Page:
    """One tab attached through a flattened CDP session."""

    def __init__(self, browser: Chromium, session: str, target: str) -> None:
        self.browser, self.session, self.target = browser, session, target

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def events(self, method: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.browser.session_events(self.session) if method is None or e["method"] == method]

    def navigate(self, url: str, timeout: float = 60.0) -> None:
        before = len(self.events("Page.loadEventFired"))
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CdpError(f"navigate {url}: {result['errorText']}")
        deadline = time.monotonic() + timeout
        while len(self.events("Page.loadEventFired")) <= before:
            if time.monotonic() > deadline:
                raise CdpError(f"{url} did not finish loading in {timeout}s")
            time.sleep(0.05)

    def evaluate(self, expression: str) -> Any:
        """Evaluate a JS expression in the page and return its JSON value."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise CdpError(f"evaluate {expression!r}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> None:
        """Poll until ``expression`` is truthy; raise CdpError on timeout."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise CdpError(f"timed out after {timeout}s waiting for: {expression}")
            time.sleep(0.1)

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (CSP violations included)."""
        found = []
        for e in self.events("Runtime.exceptionThrown"):
            details = e["params"]["exceptionDetails"]
            found.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
        for e in self.events("Runtime.consoleAPICalled"):
            if e["params"]["type"] in ("error", "assert"):
                args = [a.get("value", a.get("description", "")) for a in e["params"]["args"]]
                found.append(f"console.{e['params']['type']}: {' '.join(map(str, args))}")
        for e in self.events("Log.entryAdded"):
            entry = e["params"]["entry"]
            if entry["level"] == "error":
                found.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
        return found

    def dialogs(self) -> list[str]:
        """Dialogs (alert, confirm, prompt) the page opened: seen by CDP or by the in-page trap."""
        seen = [f"{e['params']['type']}:{e['params']['message']}" for e in self.events("Page.javascriptDialogOpening")]
        return seen + list(self.evaluate("window.__dialogs || []"))

    def requests(self) -> list[str]:
        """URLs of every request the page made."""
        return [e["params"]["request"]["url"] for e in self.events("Network.requestWillBeSent")]

    def screenshot(self, path: str | Path, *, full_page: bool = True) -> Path:
        """Save a PNG of the page (the whole scroll height by default)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        data = base64.b64decode(self.send("Page.captureScreenshot", params)["data"])
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        return out

    def print_media(self, enabled: bool = True) -> None:
        """Emulate (or stop emulating) print media, to check the print stylesheet."""
        self.send("Emulation.setEmulatedMedia", {"media": "print" if enabled else ""})

    def pdf(self, path: str | Path) -> Path:
        """Print the page to PDF the way a user would (print CSS, backgrounds on)."""
        data = base64.b64decode(self.send("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True}, timeout=120)["data"])
        out = Path(path)
        out.write_bytes(data)
        return out

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
