# Charts as PNG bytes for reports, chats and digests (matplotlib, Agg canvas).
# Invariants: every chart is drawn on its own Figure with a FigureCanvasAgg, never through
# pyplot, so no global backend or figure state is touched and charts can be drawn from
# worker threads; labels are Indonesian with decimal commas.
from __future__ import annotations

import io
import textwrap
from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from bot.config.office import Office
from bot.reports.skm_summary import SkmSummary
from bot.texts import angka
from kpi.rounding import round_half_up
from kpi.skm_questionnaire import UNSUR

# ----------------------------------------------------------------------- NRR per unsur (SKM)

# Grade bands on the NRR scale 1-4 from domain.md 2.2 (interval IKM). The table leaves tiny
# gaps (2,5996-2,60; 3,064-3,0644; 3,532-3,5324); the grade is decided on the converted value
# (65,00 / 76,61 / 88,31 divided by 25), so each band is drawn from its lower bound up to the
# next band's lower bound.
NRR_BANDS: tuple[tuple[float, float, str, str, str], ...] = (
    (1.00, 2.60, "D", "Tidak baik", "#f4c7c3"),
    (2.60, 3.0644, "C", "Kurang baik", "#fce8b2"),
    (3.0644, 3.5324, "B", "Baik", "#d9ead3"),
    (3.5324, 4.00, "A", "Sangat baik", "#b7e1cd"),
)
_BAR_COLOUR = "#1f4e79"
_MISSING_COLOUR = "#9e9e9e"


# Short Indonesian tick labels: the full unsur names do not fit under nine bars.
_SHORT_NAMES = {
    "u1": "Persyaratan",
    "u2": "Sistem dan prosedur",
    "u3": "Waktu penyelesaian",
    "u4": "Biaya/tarif",
    "u5": "Produk layanan",
    "u6": "Kompetensi pelaksana",
    "u7": "Perilaku pelaksana",
    "u8": "Sarana dan prasarana",
    "u9": "Penanganan pengaduan",
}


def nrr_chart(summary: SkmSummary, office: Office) -> bytes:
    """Bars of NRR per unsur U1..U9 over the D/C/B/A bands, as PNG bytes."""
    fig = Figure(figsize=(9, 5.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for low, high, mutu, _kinerja, colour in NRR_BANDS:
        ax.axhspan(low, high, color=colour, zorder=0)
        ax.text(9.45, (low + high) / 2, f"{mutu}", va="center", ha="center", fontsize=11,
                fontweight="bold", color="#444444", zorder=1)
    result = summary.result
    xs = list(range(1, len(UNSUR) + 1))
    labels = [f"U{i}\n" + "\n".join(textwrap.wrap(_SHORT_NAMES.get(u.code, u.nama), 11,
                                                 break_long_words=False))
              for i, u in enumerate(UNSUR, start=1)]
    for x, u in zip(xs, UNSUR, strict=True):
        nrr = result.nrr[u.code] if result is not None else None
        if nrr is None:
            ax.text(x, 1.05, "tidak ada\njawaban", ha="center", va="bottom", fontsize=7,
                    color=_MISSING_COLOUR, zorder=3)
            continue
        ax.bar(x, float(nrr) - 1, bottom=1, width=0.6, color=_BAR_COLOUR, zorder=2)
        ax.text(x, float(nrr) + 0.03, angka(round_half_up(nrr, 2), 2), ha="center",
                va="bottom", fontsize=8, zorder=3)
    ax.set_xlim(0.4, 9.8)
    ax.set_ylim(1, 4.25)
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_yticks([1, 1.5, 2, 2.5, 3, 3.5, 4])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: angka(Decimal(str(v)), 1)))
    ax.set_ylabel("Nilai rata-rata (NRR)")
    service = office.service_name(summary.service) if summary.service else "semua layanan"
    ax.set_title(f"NRR per unsur pelayanan, {office.name}\n{summary.period.label()}, {service}",
                 fontsize=11)
    if result is not None:
        head = (f"IKM {angka(result.konversi, 2)} (mutu {result.mutu}, {result.kinerja.lower()}), "
                f"{angka(summary.respondents, 0)} responden")
    else:
        head = "Belum ada jawaban survei pada periode ini"
    fig.text(0.45, 0.02, head, ha="center", fontsize=9)
    ax.legend(handles=[Patch(color=c, label=f"{m}: {k}") for _, _, m, k, c in reversed(NRR_BANDS)],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="Mutu", title_fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.82, bottom=0.21, top=0.88)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ------------------------------------------------------------------ weekly digest (complaints)


def target_label(target: Decimal) -> str:
    """The target as configured: 95.50 -> "95,50%", 90 -> "90%" (its own decimals)."""
    exponent = target.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{angka(target, places)}%"


def weekly_chart(
    labels: list[str],
    received: list[int],
    resolved: list[int],
    rates: list[Decimal | None],
    target: Decimal | None,
    title: str,
) -> bytes:
    """Complaints received and resolved per week (bars) and each week's resolution rate
    against the IKU 4 target (red line and dashed line, right axis), as PNG bytes. A week
    with nothing counted has no rate: the line breaks there rather than dropping to 0."""
    fig = weekly_figure(labels, received, resolved, rates, target, title)
    buf = io.BytesIO()
    # The Agg canvas's own PNG writer: savefig's print_figure around it (dpi and colour
    # swaps, a layout pass) cost a third more for a figure that is already laid out.
    fig.canvas.print_png(buf)  # type: ignore[attr-defined]
    return buf.getvalue()


# A quiet period (no complaint at all) still gets a readable count axis: 0 to this.
_MIN_COUNT_TOP = 5


def weekly_figure(
    labels: list[str],
    received: list[int],
    resolved: list[int],
    rates: list[Decimal | None],
    target: Decimal | None,
    title: str,
) -> Figure:
    """The Figure of weekly_chart, for tests to read its axes. Both axes start at 0; the
    count axis has whole-number ticks (0 to 5 at least, so a quiet period is not drawn
    around -0,05..0,05); the percent axis reaches past the target and 100%."""
    from matplotlib.ticker import MaxNLocator

    if not len(labels) == len(received) == len(resolved) == len(rates):
        raise ValueError("Panjang label dan deret data harus sama")
    fig = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(labels)))
    ax.bar([x - 0.2 for x in xs], received, 0.4, label="Masuk", color="#4c78a8", zorder=2)
    ax.bar([x + 0.2 for x in xs], resolved, 0.4, label="Selesai", color="#59a14f", zorder=2)
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_xlabel("Minggu, mulai Senin")
    ax.set_ylabel("Laporan")
    highest = max([*received, *resolved, 0])
    ax.set_ylim(0, max(_MIN_COUNT_TOP, highest * 1.15))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=3))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: angka(int(round(v)), 0)))
    right = ax.twinx()
    right.plot(xs, [float(r) if r is not None else float("nan") for r in rates], color="#e15759",
               marker="o", label="Tingkat penyelesaian", zorder=3)
    if target is not None:
        right.axhline(float(target), color="#e15759", linestyle="--", linewidth=1,
                      label=f"Target IKU 4 ({target_label(target)})")
    right.set_ylim(0, max(105.0, float(target) + 5 if target is not None else 0.0))
    right.set_ylabel("Persen")
    right.set_yticks(range(0, 101, 20))
    right.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{angka(Decimal(str(round(v, 1))), 0)}%"))
    handles, names = ax.get_legend_handles_labels()
    more, more_names = right.get_legend_handles_labels()
    ax.legend(handles + more, names + more_names, loc="upper center", bbox_to_anchor=(0.5, -0.15),
              fontsize=8, ncols=4, frameon=False)
    ax.set_title(title, fontsize=11)
    # Fixed margins, as nrr_chart: the layout is the same every week, and tight_layout
    # measured every text to find it again, 80 ms of the chart's 200 (a digest per kecamatan
    # each week, 31 of them in a kabupaten). Room for counts up to 6 digits ("123.456"), the
    # legend row and a title of an office's length (tested: nothing drawn outside).
    fig.subplots_adjust(left=0.12, right=0.90, bottom=0.20, top=0.92)
    return fig


__all__ = ["NRR_BANDS", "nrr_chart", "target_label", "weekly_chart", "weekly_figure"]
