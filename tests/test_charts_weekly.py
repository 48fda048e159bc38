# The weekly digest chart: a quiet period gets a sensible count axis (0 upwards, whole
# numbers), percents with decimal commas, and the legend shows the target as configured.
from __future__ import annotations

from decimal import Decimal

from matplotlib.axes import Axes

from bot.reports.charts import target_label, weekly_chart, weekly_figure

LABELS = [f"W{i:02d}" for i in range(1, 13)]


def tick_texts(ax: Axes) -> list[str]:
    ax.figure.canvas.draw()  # type: ignore[union-attr]
    return [t.get_text() for t in ax.get_yticklabels() if t.get_text()]


def test_a_quiet_period_has_a_whole_number_axis_from_zero() -> None:
    zeros = [0] * 12
    fig = weekly_figure(LABELS, zeros, zeros, [None] * 12, Decimal("95.50"), "Sepi")
    counts, percent = fig.axes
    assert counts.get_ylim() == (0.0, 5.0)
    assert tick_texts(counts) == ["0", "1", "2", "3", "4", "5"]
    bottom, top = percent.get_ylim()
    assert bottom == 0 and top >= 100
    texts = tick_texts(percent)
    assert texts[0] == "0%" and "100%" in texts
    assert not any("-" in t or "." in t for t in tick_texts(counts) + texts)
    legend = counts.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "Masuk", "Selesai", "Tingkat penyelesaian", "Target IKU 4 (95,50%)"]


def test_a_busy_period_keeps_whole_numbers_and_room_above_the_highest_bar() -> None:
    received = [3, 7, 12, 0, 1, 2, 4, 9, 11, 5, 6, 8]
    resolved = [2, 7, 10, 1, 0, 2, 3, 9, 10, 5, 6, 7]
    rates = [Decimal("66.67")] + [Decimal(100)] * 11
    fig = weekly_figure(LABELS, received, resolved, rates, Decimal(90), "Ramai")
    counts, _ = fig.axes
    assert counts.get_ylim()[0] == 0 and counts.get_ylim()[1] > 12
    assert all(t.isdigit() for t in tick_texts(counts))
    assert weekly_chart(LABELS, received, resolved, rates, Decimal(90), "Ramai").startswith(b"\x89PNG")


def test_target_label_keeps_the_configured_decimals() -> None:
    assert target_label(Decimal("95.50")) == "95,50%"
    assert target_label(Decimal("95.5")) == "95,5%"
    assert target_label(Decimal("90")) == "90%"


def test_the_digest_chart_names_weeks_by_their_monday() -> None:
    # ISO weeks 45-48 of 2026 start on Monday 2, 9, 16 and 23 November; week 1 of 2027 on
    # Monday 4 January 2027 (a year boundary inside the 12 weeks shown).
    from bot.reports.digest import week_ticks
    from kpi.periods import Period

    weeks = [Period("week", 2026, i) for i in (45, 46, 47, 48)] + [Period("week", 2027, 1)]
    assert week_ticks(weeks) == ["2 Nov", "9 Nov", "16 Nov", "23 Nov", "4 Jan"]
    fig = weekly_figure(week_ticks(weeks), [1] * 5, [1] * 5, [None] * 5, Decimal(90), "Lima minggu")
    ax = fig.axes[0]
    ax.figure.canvas.draw()  # type: ignore[union-attr]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2 Nov", "9 Nov", "16 Nov", "23 Nov", "4 Jan"]
    assert ax.get_xlabel() == "Minggu, mulai Senin"


def test_nothing_is_drawn_outside_the_chart_with_big_counts_and_a_long_title() -> None:
    # The margins are fixed (no tight_layout): the widest count labels, the legend row under
    # the axes and a long office name must still fit inside the picture.
    received = [123_456, 99_999, 0, 5, 10, 20, 40, 80, 160, 320, 640, 1_280]
    fig = weekly_figure([f"{d} Des" for d in range(1, 13)], received, received, [Decimal("99.99")] * 12,
                        Decimal("95.50"), "Kecamatan Sumberbaru Kabupaten Jember: pengaduan 12 minggu terakhir")
    fig.canvas.draw()  # type: ignore[attr-defined]
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    box = fig.get_tightbbox(renderer)
    width, height = fig.get_size_inches()
    assert box.x0 >= 0 and box.y0 >= 0, box
    assert box.x1 <= width and box.y1 <= height, box
    # The legend row sits under the axis title "Minggu, mulai Senin", not across it.
    counts = fig.axes[0]
    legend = counts.get_legend()
    assert legend is not None
    legend_box = legend.get_window_extent(renderer)
    label_box = counts.xaxis.label.get_window_extent(renderer)
    assert legend_box.y1 <= label_box.y0, (legend_box, label_box)
    png = weekly_chart(LABELS, received, received, [None] * 12, None, "x")
    assert png.startswith(b"\x89PNG")
