"""The headless Chromium the tests look at pages with, driven by Playwright for Python.

The browser is the one the npm package ``@sparticuz/chromium`` (a dev dependency in ``package-lock.json``, so
``make setup`` installs it) ships inside itself: its own ``executablePath()`` unpacks it into the temporary folder
once, and nothing needs root or a download. A system ``chromium`` is used only where that package is not installed."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.deals import ROOT

PACKAGE = ROOT / "node_modules" / "@sparticuz" / "chromium"
PACKAGED_ARGS = ("--no-sandbox", "--single-process", "--headless=new")
"""What the packaged build needs: it is made for sandbox-less single-process hosts."""
SYSTEM_ARGS = ("--no-sandbox",)
_UNPACK = "require('@sparticuz/chromium').executablePath().then((p) => process.stdout.write(p))"


@dataclass(frozen=True)
class Browser:
    executable: str
    args: tuple[str, ...]


def chromium() -> Browser:
    """The packaged Chromium, unpacked; else a system one; else the test fails saying how to get one."""
    node = shutil.which("node")
    if (PACKAGE / "package.json").is_file() and node is not None:
        done = subprocess.run([node, "-e", _UNPACK], cwd=ROOT, capture_output=True, text=True, timeout=300,
                              check=False)
        if done.returncode != 0 or not Path(done.stdout).is_file():
            pytest.fail(f"@sparticuz/chromium could not unpack its browser: {done.stderr.strip()[-500:]}")
        return Browser(done.stdout, PACKAGED_ARGS)
    system = shutil.which("chromium") or shutil.which("chromium-browser")
    if system is not None:
        return Browser(system, SYSTEM_ARGS)
    pytest.fail("no Chromium for the browser tests: run `make setup` (npm installs @sparticuz/chromium from "
                "package-lock.json, which ships one), or install your system's chromium package")


def screenshot(url: str, out: Path, width: int, height: int) -> Path:
    """A ``width`` x ``height`` PNG of the page at ``url``, once it has loaded."""
    from playwright.sync_api import sync_playwright

    browser = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=browser.executable, args=list(browser.args))
        try:
            page = launched.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="load")
            page.screenshot(path=str(out))
        finally:
            launched.close()
    return out


@dataclass(frozen=True)
class Rendered:
    """An element as the browser laid it out: its visible text and its size in CSS pixels."""

    text: str
    width: float
    height: float


def rendered(url: str, selectors: list[str], width: int = 1200, height: int = 900) -> dict[str, Rendered | None]:
    """Each selector's first element on the page at ``url`` once loaded, as laid out (``None``: no such element)."""
    from playwright.sync_api import sync_playwright

    browser = chromium()
    out: dict[str, Rendered | None] = {}
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=browser.executable, args=list(browser.args))
        try:
            page = launched.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="load")
            for selector in selectors:
                element = page.query_selector(selector)
                box = element.bounding_box() if element is not None else None
                text = str(element.evaluate("e => e.innerText ?? e.textContent ?? ''")) if element is not None else ""
                out[selector] = None if element is None else Rendered(
                    text, box["width"] if box else 0.0, box["height"] if box else 0.0)
        finally:
            launched.close()
    return out
