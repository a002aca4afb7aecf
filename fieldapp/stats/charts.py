"""Small bar charts drawn on the server as inline SVG: no chart JavaScript, nothing the CSP forbids.

Only SVG elements and presentation attributes (fill, x, y, width, height): no `style` attribute, no script.
The chart scales with its container (viewBox, width 100%) so it reads at 360 px and in print; every page that
shows one also shows the same numbers in a table, so a screen reader gets them (the SVG is aria-hidden).
"""
from markupsafe import Markup, escape

from .. import clock

WIDTH, HEIGHT, BASE, TOP = 320, 150, 118, 14
MARGIN = 10  # room beside the first and last bar for a label wider than its bar
LABELLED = 13  # bars that each get their labels; of more (a long custom period), every k-th, so none overlap


def bar_chart(bars, number_format=str, below=()):
    """An SVG bar chart. bars: [(label, value or None)] (None: no bar, "–" above it); number_format(value)
    gives each bar's printed value; below: a second line under some labels (the year, clock.month_labels),
    one text per bar ("" for none), always shown. With more than LABELLED bars only every k-th bar's label and
    value are printed (k = bars / 12, rounded up): the page's table beside the chart has every number.
    Returns Markup (safe to put in a template as it is)."""
    bars = list(bars)
    below = list(below) + [""] * (len(bars) - len(below))
    values = [v for _label, v in bars if v is not None]
    top = max(values) if values and max(values) > 0 else 1
    n = max(1, len(bars))
    every = labelled_every(n)
    step = WIDTH / n
    width = step * 0.7
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="{-MARGIN} 0 {WIDTH + 2 * MARGIN} {HEIGHT}" width="100%" aria-hidden="true" focusable="false">',
             f'<line x1="0" y1="{BASE}" x2="{WIDTH}" y2="{BASE}" stroke="currentColor" stroke-width="1"/>']
    for i, (label, value) in enumerate(bars):
        x = i * step + (step - width) / 2
        centre = i * step + step / 2
        if value is not None:
            height = (BASE - TOP) * (value / top)
            parts.append(f'<rect x="{x:.1f}" y="{BASE - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
                         f'fill="#1f5fa8"/>')
        if i % every == 0:
            text = "–" if value is None else number_format(value)
            y = (BASE - (BASE - TOP) * ((value or 0) / top)) - 3
            parts.append(f'<text x="{centre:.1f}" y="{y:.1f}" font-size="6.5" text-anchor="middle" '
                         f'fill="currentColor">{escape(text)}</text>')
            parts.append(f'<text x="{centre:.1f}" y="{BASE + 12}" font-size="7.5" text-anchor="middle" '
                         f'fill="currentColor">{escape(label)}</text>')
        if below[i]:
            parts.append(f'<text x="{centre:.1f}" y="{BASE + 23}" font-size="7.5" text-anchor="middle" '
                         f'fill="currentColor">{escape(below[i])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def labelled_every(n):
    """1 for up to LABELLED bars, else the k of bar_chart's every k-th labelled bar."""
    return 1 if n <= LABELLED else -(-n // 12)


def month_chart(months, number_format=str):
    """bar_chart of one bar per month: months [(first day of the month, value or None)], labelled with the
    month's short name in the reader's language and the year under the first bar and each January; of a long
    period, under the first labelled bar of each year (clock.month_labels with bar_chart's k)."""
    months = list(months)
    labels = clock.month_labels([first for first, _value in months], labelled_every(len(months)))
    return bar_chart([(label, value) for (label, _year), (_first, value) in zip(labels, months)], number_format,
                     below=[year for _label, year in labels])
