"""Explorer page on the embedded data: file size and render time in headless Chromium.

Targets (issue 5): under 10 MB and under 2 s to render. The baseline, measured in the same run
and the same browser, is a bare plotly figure of the same observed points (one scatter trace per
(model, strategy) with error bars, log x axis) written by ``fig.write_html`` with plotly.js
inlined. Render time = navigation start to the first painted frame after every plot is drawn
(``performance.now()`` in a ``requestAnimationFrame`` callback), median over ``--repeat`` loads
after one warm-up load; the cold first load is printed too. Also writes the README screenshot
(1400 pixels wide, the page's first data set).

    python benchmarks/bench_explorer.py [--repeat 5] [--screenshot docs/explorer.png]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import plotly.graph_objects as go
from rich.console import Console
from rich.table import Table

from scaling.browser import Browser
from scaling.explorer import explorer_frames, write_explorer

ROOT = Path(__file__).resolve().parents[1]
SIZE_TARGET_MB = 10.0
RENDER_TARGET_MS = 2000.0
READY = "window.explorer && window.explorer.ready"
BASELINE_READY = "window.__ready"
CLOCK = "[window.explorer.renderMs, window.explorer.renderMs - window.explorer.startMs]"
BASELINE_CLOCK = "[window.__ready, window.__ready - window.__start]"
BASELINE_SCRIPT = (
    "requestAnimationFrame(() => setTimeout(() => { window.__ready = performance.now(); }, 0));"
)


def baseline_page(points, path: Path) -> Path:
    """The same observed points as a bare plotly figure written by ``fig.write_html``."""
    fig = go.Figure()
    for (dataset, model, strategy), g in points.groupby(["dataset", "model", "strategy"]):
        g = g.sort_values("cost")
        fig.add_scatter(
            x=g["cost"],
            y=g["accuracy"],
            mode="markers",
            name=f"{dataset} {model} {strategy}",
            error_y={
                "type": "data",
                "array": g["ci_high"] - g["accuracy"],
                "arrayminus": g["accuracy"] - g["ci_low"],
            },
        )
    fig.update_xaxes(type="log", title="cost per problem")
    fig.update_yaxes(title="accuracy")
    html = fig.to_html(include_plotlyjs=True, post_script=BASELINE_SCRIPT, div_id="baseline")
    # mark when plotly.js has been evaluated, as the explorer does (``startMs``)
    marker = "<script>window.__start = performance.now();</script>"
    path.write_text(html.replace('<div id="baseline"', marker + '<div id="baseline"', 1))
    return path


def render_time(browser: Browser, url: str, ready: str, clock: str) -> list[float]:
    """[ms from navigation start to painted, ms of that after plotly.js was evaluated]."""
    page = browser.open(url, ready=ready, timeout=60)
    if page.errors:
        raise SystemExit(f"console errors on {url}: {page.errors}")
    times = page.evaluate(clock)
    page.call("Page.close")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--screenshot", type=Path, default=ROOT / "docs" / "explorer.png")
    parser.add_argument("--bootstrap", type=int, default=200)
    args = parser.parse_args()
    console = Console()

    t0 = time.perf_counter()
    frames = explorer_frames(bootstrap=args.bootstrap)
    build_s = time.perf_counter() - t0
    tmp = Path(tempfile.mkdtemp(prefix="bench-explorer-"))
    page = write_explorer(tmp / "explorer.html", **frames)
    base = baseline_page(frames["points"], tmp / "baseline.html")
    size_mb, base_mb = page.stat().st_size / 1e6, base.stat().st_size / 1e6

    ours, theirs = [], []
    with Browser(width=1400, height=1000) as browser:
        for _ in range(args.repeat + 1):  # interleaved, so both see the same machine load
            ours.append(render_time(browser, page.as_uri(), READY, CLOCK))
            theirs.append(render_time(browser, base.as_uri(), BASELINE_READY, BASELINE_CLOCK))
        shot = browser.open(page.as_uri(), ready=READY, timeout=60)
        shot.screenshot(args.screenshot)

    def median(times: list, i: int) -> float:
        return statistics.median(t[i] for t in times[1:])

    med, base_med = median(ours, 0), median(theirs, 0)
    table = Table(title="Explorer page on the embedded data (headless Chromium)")
    for col in ("", "explorer", "bare plotly baseline", "ratio", "target"):
        table.add_column(col, justify="right")
    table.add_row(
        "size (MB)", f"{size_mb:.2f}", f"{base_mb:.2f}", f"{size_mb / base_mb:.2f}", "< 10 MB"
    )
    table.add_row(
        f"render, median of {args.repeat} (ms)",
        f"{med:.0f}",
        f"{base_med:.0f}",
        f"{med / base_med:.2f}",
        "< 2000 ms",
    )
    table.add_row(
        "render, cold first load (ms)", f"{ours[0][0]:.0f}", f"{theirs[0][0]:.0f}", "", ""
    )
    table.add_row(
        "  of which after plotly.js was evaluated (median, ms)",
        f"{median(ours, 1):.0f}",
        f"{median(theirs, 1):.0f}",
        f"{median(ours, 1) / median(theirs, 1):.2f}",
        "",
    )
    console.print(table)
    n_cfg = sum(1 for _ in frames["points"].groupby(["dataset", "run", "strategy"]))
    console.print(
        f"{n_cfg} configurations in {frames['points']['dataset'].nunique()} data sets; "
        f"frames built in {build_s:.1f} s (bootstrap={args.bootstrap}); "
        f"screenshot: {args.screenshot}"
    )
    ok = size_mb < SIZE_TARGET_MB and med < RENDER_TARGET_MS
    console.print(f"ratio explorer/baseline render time: {med / base_med:.2f}")
    console.print("targets met" if ok else "[red]targets NOT met[/red]")


if __name__ == "__main__":
    main()
