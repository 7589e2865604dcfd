"""report.html looked at in a real browser: headless Chromium, offline.

Skipped only where no Chromium is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from test_report_helpers import report

from forecast.report.write import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed")

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--disable-extensions", "--mute-audio",
]  # fmt: skip


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("chromium")
    _, rep = report(root)
    written = write_report(rep, root / "reports")
    return written


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dom_has_the_tables_images_and_escaped_text(page, tmp_path):
    done = _chromium(tmp_path, "--dump-dom", page.html.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert '<table class="forecasts">' in dom
    assert dom.count('<table class="evidence">') == 3
    assert 'id="diagnostics"' in dom
    images = re.findall(r'<img src="(data:image/png;base64,[^"]+)"', dom)
    assert len(images) == len(list((page.path / "plots").glob("*.png")))
    # the page's markup survived parsing as text: no script element was created
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_screenshot_shows_the_plots(page, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,4000",
                     page.html.as_uri())  # fmt: skip
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 4000)
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 500  # not blank: text, tables and plots

    # the waterfall's green bars (alpha 0.9 over white) only exist if the PNGs decoded
    def blend(hex_colour: str, alpha: float = 0.9) -> tuple[int, ...]:
        rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
        return tuple(round(alpha * c + (1 - alpha) * 255) for c in rgb)

    green = blend("#2e8b57")
    near = sum(n for n, c in colours if all(abs(a - b) <= 6 for a, b in zip(c, green, strict=True)))
    assert near > 2000
