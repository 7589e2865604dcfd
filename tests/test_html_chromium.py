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
    _, rep = report(root, track=True)
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


MAGENTA = (255, 0, 255)


def _runs(flags: list[bool]) -> int:
    """How many separate runs of True a sequence holds."""
    return sum(1 for i, f in enumerate(flags) if f and (i == 0 or not flags[i - 1]))


def test_phone_width_shows_every_table_row_whole(page, tmp_path):
    """At 390 px nothing is cut: every table row's last cell is on screen, inside it.

    A copy of the page gets one more style rule painting each row's last cell
    (the right-most column: the forecast table's diagnostics, the evidence
    tables' "without it", the joint forecasts' values) solid magenta. Each
    such cell must show as its own magenta box within the viewport, and
    nothing may reach the right edge: the page does not scroll sideways.
    """
    from PIL import Image

    html = page.html.read_text(encoding="utf-8")
    rows = sum(body.count("<tr") for body in re.findall(r"<tbody>(.*?)</tbody>", html, re.S))
    assert rows >= 3 + 3 + 6 + 3  # forecasts, evidence (a table a question), joint, diagnostics
    paint = "td:last-child{background:#ff00ff!important;color:#ff00ff!important}"
    marked = tmp_path / "marked.html"
    marked.write_text(html.replace("</head>", f"<style>{paint}</style></head>"), "utf-8")
    shot = tmp_path / "phone.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=390,16000",
                     marked.as_uri())  # fmt: skip
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    width, height = img.size
    assert width == 390
    px = img.load()
    tail = [px[x, y] for y in range(height - 300, height) for x in range(0, width, 7)]
    assert all(p == (255, 255, 255) for p in tail)  # the whole page fits in the shot
    magenta_rows = []
    right_most = 0
    for y in range(height):
        xs = [x for x in range(width) if px[x, y] == MAGENTA]
        magenta_rows.append(bool(xs))
        if xs:
            right_most = max(right_most, xs[-1])
    assert _runs(magenta_rows) == rows  # every row's last cell is visible, one box each
    assert right_most < width - 8  # inside the page's margin, not cut at the edge
    # nothing but the header's rule touches the right edge: no sideways scrolling
    edge = {px[x, y] for y in range(height) for x in range(width - 4, width)}
    assert edge <= {(255, 255, 255), (0xDF, 0xE3, 0xE8)}, edge - {(255, 255, 255)}


def test_phone_width_keeps_plots_legible_and_inside_their_box(page, tmp_path):
    """At 390 px a plot is not shrunk to a thumbnail: it keeps 640 px and scrolls
    sideways inside its own box, whose right edge stays within the page."""
    from PIL import Image

    html = page.html.read_text(encoding="utf-8")
    # paint the plots flat so their box is measurable on the screenshot
    paint = "figure img{filter:brightness(0) saturate(100%);} figure{background:#fff}"
    marked = tmp_path / "plots.html"
    marked.write_text(html.replace("</head>", f"<style>{paint}</style></head>"), "utf-8")
    shot = tmp_path / "plots.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=390,16000",
                     marked.as_uri())  # fmt: skip
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    img = Image.open(shot).convert("RGB")
    px = img.load()
    width, height = img.size
    # a black band (a plot, painted) at least as tall as a 640-px-wide plot would be:
    # the shortest plot is 1008 x 372, so 640 px wide means about 236 px tall
    black = [sum(px[x, y] == (0, 0, 0) for x in range(width)) > 300 for y in range(height)]
    tallest, run = 0, 0
    for b in black:
        run = run + 1 if b else 0
        tallest = max(tallest, run)
    assert tallest >= 230  # at 100 % of 362 px it would be at most 362 * 528 / 1008 = 190
    assert all(px[x, y] != (0, 0, 0) for y in range(height) for x in range(width - 10, width))
