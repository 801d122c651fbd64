"""The demo report opened in a real browser (headless Chromium, when installed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from seqforecast.demo import run_demo
from seqforecast.report import write_report

CHROMIUM = next(
    (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None
)

# Injected into a copy of the page (never into the report itself): records script errors,
# console.error calls and, once the page has loaded, how many images decoded.
PROBE = """<script>
window.__problems = [];
window.addEventListener("error", (e) => window.__problems.push(String(e.message || e.type)), true);
const __consoleError = console.error;
console.error = (...args) => { window.__problems.push(args.join(" ")); __consoleError(...args); };
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const decoded = images.filter((img) => img.complete && img.naturalWidth > 0).length;
  document.body.setAttribute("data-images", images.length + "/" + decoded);
  document.body.setAttribute("data-problems", String(window.__problems.length));
});
</script>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(run_demo(steps=3, batch_size=2, device="cpu"), tmp_path_factory.mktemp("report"))


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("SEQFORECAST_REQUIRE_BROWSER"), reason="Chromium is not installed"
)
def test_report_renders_in_a_browser(report: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None, "SEQFORECAST_REQUIRE_BROWSER is set but Chromium is not installed"
    page = report.read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE, 1))
    dom = chromium("--virtual-time-budget=10000", "--dump-dom", probed.as_uri(), profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    images = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    problems = re.search(r'data-problems="(\d+)"', dom.stdout)
    assert images is not None, dom.stdout[-2000:]
    assert problems is not None
    assert int(images.group(1)) == 4
    assert images.group(1) == images.group(2), "some images did not load"
    assert problems.group(1) == "0", "the page reported errors"
    screenshot = tmp_path / "report.png"
    shot = chromium(
        f"--screenshot={screenshot}", "--window-size=1200,2400", report.as_uri(), profile=tmp_path / "profile-shot"
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    assert screenshot.stat().st_size > 50_000  # a rendered page, not a blank one
