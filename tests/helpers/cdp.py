"""Headless Chromium driven over the DevTools protocol (the CLI's --screenshot cannot log in):
log in through Superset's own login form, open a page, wait for it, measure it, screenshot it."""
from __future__ import annotations

import base64
import itertools
import json
import subprocess
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]


class Browser:
    def __init__(self, exe: str, profile: Path, width: int = 1600, height: int = 2000):
        self.proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                      f"--window-size={width},{height}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.2)
        port = int(port_file.read_text().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
        self.ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def send(self, method: str, timeout: float = 60, **params):
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def navigate(self, url: str, settle: float = 1.0) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'", timeout=60)
        time.sleep(settle)

    def wait_for(self, expression: str, timeout: float = 90) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(expression):
                    return True
            except RuntimeError:  # a navigation in flight
                pass
            time.sleep(0.5)
        return False

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def superset_login(browser: Browser, base_url: str, password: str) -> bool:
    """Log in as admin through Superset's own login form (its CSRF token included); True once the
    browser has left /login."""
    browser.navigate(f"{base_url}/login/")
    if not browser.wait_for("!!document.getElementById('csrf_token')", timeout=60):
        return False
    browser.evaluate("""(() => {
      const form = document.createElement('form'); form.method = 'POST'; form.action = '/login/';
      const add = (name, value) => { const i = document.createElement('input'); i.type = 'hidden';
        i.name = name; i.value = value; form.appendChild(i); };
      add('username', 'admin'); add('password', %s);
      add('csrf_token', document.getElementById('csrf_token').value);
      document.body.appendChild(form); form.submit(); return true; })()""" % json.dumps(password))
    return browser.wait_for("!location.pathname.startsWith('/login')", timeout=60)
