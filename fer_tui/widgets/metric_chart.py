"""A plotext line chart that is rebuilt from its series on every render (so resizes redraw)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

MARK_COLOR = "yellow"
# plotext names ANSI yellow "orange" (and draws an unknown "yellow" in another colour): the
# legend uses Rich's names, so the plot translates them
PLOTEXT_COLORS = {"yellow": "orange"}


def plotext_color(color: str) -> str:
    return PLOTEXT_COLORS.get(color, color)


@dataclass(frozen=True)
class Series:
    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    color: str = "cyan"
    marker: str = "braille"


def epoch_axis(xs: list[float]) -> tuple[int, int, list[float]]:
    """(low, high, ticks): whole epochs around the data (x in epochs; step lines are
    fractional) and a few whole-epoch ticks (plotext's float ticks waste the narrow axis).
    Inside the first epoch: 0 to 1, so the line grows across the epoch."""
    low, high = math.floor(min(xs)), math.ceil(max(xs))
    high = max(high, low + 1)
    step = max(1, -(-(high - low) // 5))
    return low, high, [float(x) for x in range(low, high + 1, step)]


class MetricChart(PlotextPlot):
    """Lines over epochs, plus an optional highlighted point (the best epoch).

    The legend is in the title row, not plotext's box in the plot (that hid the data under it).
    """

    def __init__(self, title: str, *, percent: bool = False, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.percent = percent
        self.series: tuple[Series, ...] = ()
        self.mark: tuple[float, float] | None = None
        self.empty_text = "waiting for the first steps"
        """What an empty chart says (a run that ended without an epoch says so)."""

    def say_when_empty(self, text: str) -> None:
        if text != self.empty_text:
            self.empty_text = text
            self.refresh()

    def set_data(self, series: list[Series], mark: tuple[float, float] | None = None) -> bool:
        """Replace the data; refresh only when it changed. Returns whether it did."""
        new = tuple(series)
        if new == self.series and mark == self.mark:
            return False
        self.series, self.mark = new, mark
        self.refresh()
        return True

    @property
    def point_count(self) -> int:
        return max((len(s.xs) for s in self.series), default=0)

    def render(self) -> RenderResult:
        plt = self.plt
        plt.clear_figure()
        plt.title(self.title)
        drawn = False
        for item in self.series:
            if item.xs:
                plt.plot(list(item.xs), list(item.ys), color=plotext_color(item.color), marker=item.marker)
                drawn = True
        if self.mark is not None:
            plt.scatter([self.mark[0]], [self.mark[1]], color=plotext_color(MARK_COLOR), marker="●")
        if not drawn:
            plt.text(self.empty_text, 0.5, 0.5, alignment="center")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
        else:
            xs = sorted({x for s in self.series for x in s.xs})
            if all(float(x).is_integer() for x in xs):  # epoch points only, as runs always had
                step = max(1, len(xs) // 4)
                plt.xticks(xs[::step])
            else:  # step lines: whole-epoch ticks, the epoch in progress shown to its end
                low, high, ticks = epoch_axis(xs)
                plt.xticks(ticks)
                plt.xlim(low, high)
        if self.percent:
            plt.ylim(0, 1) if not drawn else None
        return self._with_legend(super().render())

    def legend(self) -> Text:
        """`loss  ━ train ━ val`: the title, then each line's colour (when there are several)."""
        text = Text(self.title, style="bold")
        keys = [(s.label, s.color) for s in self.series if s.xs] if len(self.series) > 1 else []
        for label, color in keys:
            text.append("  ━ ", style=f"bold {color}")
            text.append(label)
        if self.mark is not None:
            text.append("  ● ", style=f"bold {MARK_COLOR}")
            text.append("best")
        return text

    def _with_legend(self, rendered: RenderResult) -> RenderResult:
        """Swap plotext's title row (the first) for the coloured legend, centred the same way."""
        if not isinstance(rendered, Text) or "\n" not in rendered.plain:
            return rendered
        width = rendered.plain.index("\n")
        legend = self.legend()
        legend.truncate(width, overflow="ellipsis")
        row = Text(" " * max(0, (width - legend.cell_len) // 2)).append_text(legend)
        row.pad_right(width - row.cell_len)
        # plotext paints the row in the theme's background: keep it
        backgrounds = [
            span.style.bgcolor
            for span in rendered.spans
            if span.start == 0 and not isinstance(span.style, str) and span.style.bgcolor
        ]
        if backgrounds:
            row.stylize(Style(bgcolor=backgrounds[0]))
        return Text("\n").join([row, rendered[width + 1 :]])
