"""Helpers for end-to-end tests: the real app served over HTTP on 127.0.0.1, driven by Debian's Chromium."""

from __future__ import annotations

import json
import shutil
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def chromium():
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Every page records what its Content-Security-Policy blocked; the checks below fail on any of it.
_WATCH_POLICY = """
window.__blocked = [];
document.addEventListener('securitypolicyviolation',
    e => window.__blocked.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')));
"""


def new_page(browser, **options):
    """A page whose Content-Security-Policy violations are recorded (see `check_page`)."""
    page = browser.new_page(**options)
    page.add_init_script(_WATCH_POLICY)
    return page


def log_in(page, base: str, username: str, password: str = "demo-password") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/tasks")


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()


@lru_cache(maxsize=1)
def _axe_source() -> str:
    if not AXE.exists():
        pytest.fail("axe-core is not installed: `make test` installs it (npm ci)")
    return AXE.read_text()


def check_page(page, what: str = "") -> None:
    """The page as it is now: nothing blocked by its Content-Security-Policy, and no violation of axe-core's
    checks (WCAG 2.1 A and AA). axe is evaluated through the browser's debugging protocol, so the page's policy
    stays as served."""
    blocked = page.evaluate("window.__blocked || []")
    assert blocked == [], f"the Content-Security-Policy blocked on {what or page.url}: {blocked}"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate("""async () => {
        const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
        const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    assert result == [], f"accessibility violations on {what or page.url}:\n" + json.dumps(result, indent=2)
