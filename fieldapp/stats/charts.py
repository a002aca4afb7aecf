"""Small bar charts drawn on the server as inline SVG: no chart JavaScript, nothing the CSP forbids.

Only SVG elements and presentation attributes (fill, x, y, width, height): no `style` attribute, no script.
The chart scales with its container (viewBox, width 100%) so it reads at 360 px and in print; every page that
shows one also shows the same numbers in a table, so a screen reader gets them (the SVG is aria-hidden).
"""
from markupsafe import Markup, escape

WIDTH, HEIGHT, BASE, TOP = 320, 140, 118, 14


def bar_chart(bars, number_format=str):
    """An SVG bar chart. bars: [(label, value or None)] (None: no bar, "–" above it); number_format(value)
    gives each bar's printed value. Returns Markup (safe to put in a template as it is)."""
    bars = list(bars)
    values = [v for _label, v in bars if v is not None]
    top = max(values) if values and max(values) > 0 else 1
    n = max(1, len(bars))
    step = WIDTH / n
    width = step * 0.7
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="100%" aria-hidden="true" focusable="false">',
             f'<line x1="0" y1="{BASE}" x2="{WIDTH}" y2="{BASE}" stroke="currentColor" stroke-width="1"/>']
    for i, (label, value) in enumerate(bars):
        x = i * step + (step - width) / 2
        centre = i * step + step / 2
        if value is not None:
            height = (BASE - TOP) * (value / top)
            parts.append(f'<rect x="{x:.1f}" y="{BASE - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
                         f'fill="#1f5fa8"/>')
        text = "–" if value is None else number_format(value)
        y = (BASE - (BASE - TOP) * ((value or 0) / top)) - 3
        parts.append(f'<text x="{centre:.1f}" y="{y:.1f}" font-size="8" text-anchor="middle" '
                     f'fill="currentColor">{escape(text)}</text>')
        parts.append(f'<text x="{centre:.1f}" y="{HEIGHT - 8}" font-size="8" text-anchor="middle" '
                     f'fill="currentColor">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
