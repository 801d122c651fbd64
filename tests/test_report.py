"""The demo report: what its table and figures say agrees, and it opens in a real browser (headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from seqforecast.demo import LEAK_STEP, DemoResult, leak_text, run_demo
from seqforecast.report import _figure_averaging, _figure_leak, leak_in_figure, write_report

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
def results() -> list[DemoResult]:
    return run_demo(steps=3, batch_size=2, device="cpu")


@pytest.fixture(scope="module")
def report(results: list[DemoResult], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(results, tmp_path_factory.mktemp("report"))


def test_the_table_and_the_leak_figure_report_the_same_leak(results: list[DemoResult], report: Path) -> None:
    page = report.read_text()
    cell = re.search(r"<td>conv-2sided</td>(?:<td>[^<]*</td>){4}<td>NO \(leak ([\d.e+-]+)\)</td>", page)
    caption = re.search(r"by up to ([\d.e+-]+): the leak in the table", page)
    assert cell is not None, page[:3000]
    assert caption is not None
    assert cell.group(1) == caption.group(1) == leak_text(results[3].leak)
    assert re.search(r"<td>conv</td>(?:<td>[^<]*</td>){4}<td>yes</td>", page)
    figure = _figure_leak({r.name: r for r in results})
    assert leak_in_figure(figure, "conv-2sided") == results[3].leak > 0
    assert leak_in_figure(figure, "conv") == results[2].leak == 0.0
    # the changed input and the outputs after it are on the axis, not only those before it
    steps = np.asarray(figure.axes[0].lines[0].get_xdata())
    assert steps.min() < LEAK_STEP < steps.max()


def test_the_averaging_figure_draws_the_truth_as_a_closed_loop(results: list[DemoResult]) -> None:
    truth = _figure_averaging({r.name: r for r in results}).axes[0].lines[0]
    x, y = np.asarray(truth.get_xdata()), np.asarray(truth.get_ydata())
    assert (x[0], y[0]) == pytest.approx((x[-1], y[-1]), abs=1e-12)
    assert np.abs(np.diff(x)).max() < 0.05  # no jump anywhere along it


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
