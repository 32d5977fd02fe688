"""Geometry for the usage page's stacked bar chart, drawn as inline SVG (no chart library)."""

from dataclasses import dataclass

from chat.selectors import UsageDay

WIDTH, HEIGHT = 800, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
PROVIDER_COLOURS = {"deepseek": "#8a5cf6", "ollama": "#4ade80", "builtin": "#fbbf24"}
OTHER_COLOUR = "#60a5fa"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class XLabel:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    x_labels: list[XLabel]
    legend: list[tuple[str, str]]
    baseline: float
    left: int
    right: float


def colour_of(provider: str) -> str:
    return PROVIDER_COLOURS.get(provider, OTHER_COLOUR)


def _nice_scale(value: int) -> tuple[int, int]:
    """The smallest 1, 2 or 5 times a power of ten (10 at least) that holds `value`,
    and how many gridlines divide it into round steps."""
    step = 10
    while True:
        for factor, divisions in ((1, 5), (2, 4), (5, 5)):
            if step * factor >= value:
                return step * factor, divisions
        step *= 10


def usage_chart(days: list[UsageDay]) -> Chart:
    top, divisions = _nice_scale(max([day.total_tokens for day in days] + [1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    providers = sorted({p for day in days for p in day.by_provider})
    bars: list[Bar] = []
    for index, day in enumerate(days):
        y = float(TOP + plot_h)
        for provider in providers:
            tokens = day.by_provider.get(provider, 0)
            if not tokens:
                continue
            height = plot_h * tokens / top
            y -= height
            label = f"{day.day:%b %d}: {tokens:,} tokens ({provider})"
            bars.append(
                Bar(LEFT + index * slot + slot * 0.15, y, slot * 0.7, height, colour_of(provider),
                    label)
            )  # fmt: skip
    ticks = [
        Tick(TOP + plot_h - plot_h * n / divisions, f"{top * n // divisions:,}")
        for n in range(divisions + 1)
    ]
    every = max(1, len(days) // 8)
    x_labels = [
        XLabel(LEFT + i * slot + slot / 2, f"{day.day:%b %d}")
        for i, day in enumerate(days)
        if i % every == 0
    ]
    legend = [(provider, colour_of(provider)) for provider in providers]
    return Chart(WIDTH, HEIGHT, bars, ticks, x_labels, legend, TOP + plot_h, LEFT, WIDTH - RIGHT)
