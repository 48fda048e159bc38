"""31 kecamatan on one register: each kecamatan's IKU table and weekly digest beside the bare
SQL for that kecamatan, the kabupaten digest, and the spacing of the digests, in one run.

It writes 31 office files into a temporary SIGAP_OFFICE_DIR (the shipped Jelbuk file with
kode wilayah 35.09.01 .. 35.09.31, its own name and ticket prefix each, one shared leadership
group), then fills ONE register with N complaints (with their status history) and N SKM
answers spread evenly over the 31 kecamatan (bench/register.py, each kecamatan its own seed;
ANALYZE, and VACUUM on PostgreSQL, once after: register.settle), and times, as of Monday 30
November 2026 07:00 WIB (week 2026-W48):

- per kecamatan, in its own scope (db.reading(kode)): iku_table for 2026 as of 30 November
  (what `sigap iku report` and the kabupaten table compute) beside the bare IKU 4 / IKU 2 SQL
  of bench/reports.py (by triwulan, the year, by channel, by desa, the excluded list, the SKM
  sums of each triwulan and the year), and build_digest beside the bare digest SQL of
  bench/digest.py; the bare statements are read on that kecamatan's rows only (their
  `FROM complaints` / `FROM skm_responses` read a subquery WHERE kecamatan = the kode, which
  both planners flatten into a filter), so each ratio compares the same work for one tenant;
- the kabupaten digest (every kecamatan's IKU table, as of the week's Sunday) once;
- the pacing (bot/jobs/pacing.py) of the Monday round, simulated on a fake clock: 31 digests
  (text and chart) to the one shared leadership group, then the kabupaten digest: how long
  the round takes to send, and the most messages any 60-second window of that group held.

    python bench/tenants.py [--size 31000] [--kecamatan 31] [--backends postgresql] [--repeat 3]
                            [--measure K]  (time only the first K kecamatan; all are filled)

PostgreSQL: SIGAP_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
the run creates a schema of its own and drops it at the end.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digest import bare_sql as bare_digest  # noqa: E402  bench/digest.py
from measure import timed  # noqa: E402
from register import NOW, WEEK, bench_holidays, fill, postgres_database, settle  # noqa: E402  bench/register.py
from reports import AS_OF, YEAR, bare_iku4, bare_skm  # noqa: E402  bench/reports.py

from bot.config.office import DEFAULT_OFFICE_FILE, Office, load_offices  # noqa: E402
from bot.jobs.pacing import GROUP_LIMIT, ChatPacer  # noqa: E402
from bot.reports.digest import build_digest  # noqa: E402
from bot.reports.iku_report import iku_table  # noqa: E402
from bot.reports.kabupaten_digest import build_kabupaten_digest  # noqa: E402
from kpi.periods import Period, quarters_of  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402

LEADERS = "-1009000000001"  # the one leadership group every kecamatan's digest goes to


# ------------------------------------------------------------------------------- the offices


def prefix_of(i: int) -> str:
    return "K" + chr(ord("A") + i // 26) + chr(ord("A") + i % 26)  # KAA, KAB, ...


def write_offices(folder: Path, n: int) -> dict[str, Office]:
    """n office files: the shipped Jelbuk file, each with its kode 35.09.01.., name and prefix."""
    shipped = DEFAULT_OFFICE_FILE.read_text(encoding="utf-8")
    for needle in ('nama = "Kecamatan Jelbuk"', 'kecamatan = "Jelbuk"', 'kode_wilayah = "35.09.25"',
                   'prefix_tiket = "TRB"', "pimpinan = []"):
        assert needle in shipped, needle
    for i in range(n):
        name = f"Kec{i + 1:02d}"
        body = (shipped.replace('nama = "Kecamatan Jelbuk"', f'nama = "Kecamatan {name}"')
                .replace('kecamatan = "Jelbuk"', f'kecamatan = "{name}"')
                .replace('kode_wilayah = "35.09.25"', f'kode_wilayah = "35.09.{i + 1:02d}"')
                .replace('prefix_tiket = "TRB"', f'prefix_tiket = "{prefix_of(i)}"')
                .replace("pimpinan = []", f"pimpinan = [{LEADERS}]"))
        (folder / f"kec{i + 1:02d}.toml").write_text(body, encoding="utf-8")
    return load_offices(folder)


# ------------------------------------------------------------ bare SQL on one kecamatan's rows


class _Cursor:
    def __init__(self, cur: Any, kode: str) -> None:
        self._cur, self._kode = cur, kode

    def execute(self, sql: str, params: Any = None) -> Any:
        for table in ("complaints", "skm_responses"):
            sql = sql.replace(f"FROM {table}", f"FROM (SELECT * FROM {table} WHERE kecamatan = '{self._kode}') AS {table}")
        return self._cur.execute(sql, params) if params is not None else self._cur.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


class _Connection:
    def __init__(self, raw: Any, kode: str) -> None:
        self._raw, self._kode = raw, kode

    def cursor(self) -> _Cursor:
        return _Cursor(self._raw.cursor(), self._kode)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _Engine:
    def __init__(self, engine: Any, kode: str) -> None:
        self._engine, self._kode = engine, kode

    def raw_connection(self) -> _Connection:
        return _Connection(self._engine.raw_connection(), self._kode)


class OneKecamatan:
    """What bench/digest.py's and bench/reports.py's bare SQL use of a Database (is_sqlite,
    engine.raw_connection), reading only one kecamatan's rows."""

    def __init__(self, db: Database, kode: str) -> None:
        self.is_sqlite = db.is_sqlite
        self.engine = _Engine(db.engine, kode)


def bare_iku(db: Any) -> None:
    """The register reads of iku_table (bench/reports.py iku_xlsx_bare without the workbook)."""
    for by in ("q", "1", "channel", "desa"):
        bare_iku4(db, by)
    bare_iku4(db, "ticket", excluded=True)
    for p in [*quarters_of(YEAR), Period("year", YEAR)]:
        bare_skm(db, p.first_day(), min(p.last_day(), AS_OF), scan=False, group=False)


# ------------------------------------------------------------------------------------ pacing


def simulate_round(kecamatan: int, kabupaten_parts: int) -> tuple[float, int]:
    """The Monday round's sends to the shared leadership group on a fake clock: seconds from
    the first to the last message, and the most messages in any 60-second window."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = ChatPacer(clock=lambda: now[0], sleep=sleep)

    async def run() -> list[float]:
        at = []
        for _ in range(kecamatan * 2 + kabupaten_parts):  # each digest: text and chart
            await pacer.wait(LEADERS)
            at.append(now[0])
        return at

    times = asyncio.run(run())
    worst = max(sum(1 for t in times if start <= t < start + 60) for start in times)
    return times[-1] - times[0], worst


# ------------------------------------------------------------------------------------- a run


def chart_alone() -> float:
    """Seconds to draw the digest's 12-week PNG chart alone (build_digest draws it, the bare
    SQL has nothing like it): subtract it to compare the queries."""
    from bot.reports.charts import weekly_chart

    weeks = [f"{d} Nov" for d in range(1, 13)]
    t, _ = timed(lambda: weekly_chart(weeks, list(range(12)), list(range(12)), [Decimal(50)] * 12, Decimal(90), "bagan"), 3)
    return t


def run_backend(name: str, db: Database, offices: dict[str, Office], size: int, repeat: int,
                measure: int) -> None:
    hol = bench_holidays()
    per = size // len(offices)
    t0 = time.perf_counter()
    for i, kode in enumerate(offices):
        fill(db, per, kecamatan=kode, prefix=prefix_of(i), seed=2 * i + 1, analyze=False)
    settle(db)
    print(f"\n[{name}] {len(offices)} kecamatan x {per:,} complaints (+ history) and {per:,} SKM answers "
          f"loaded in {time.perf_counter() - t0:.1f} s; median of {repeat}", flush=True)

    rows: list[tuple[str, float, float, float, float]] = []
    for kode, office in list(offices.items())[:measure]:
        def iku(kode: str = kode, office: Office = office) -> Any:
            with db.reading(kode) as s:
                return iku_table(s, office, YEAR, AS_OF)

        def digest(kode: str = kode, office: Office = office) -> Any:
            with db.reading(kode) as s:
                return build_digest(s, office, WEEK, NOW, holidays=hol)

        one = OneKecamatan(db, kode)
        if not rows:
            digest()  # warm-up: imports, matplotlib's font cache, the connection pool
        t_iku, table = timed(iku, repeat)
        t_iku_bare, _ = timed(lambda one=one: bare_iku(one), repeat)  # type: ignore[misc]
        t_dig, built = timed(digest, repeat)
        t_dig_bare, _ = timed(lambda one=one: bare_digest(one, hol), repeat)  # type: ignore[misc]
        year = built.content.year.counts
        assert year.received == per, (kode, year.received, per)  # the digest saw its own rows only
        assert table[0].code == "IKU-1"
        rows.append((kode, t_iku, t_iku_bare, t_dig, t_dig_bare))

    print(f"  {'kecamatan':10s} {'iku_table':>10s} {'bare':>8s} {'ratio':>6s}   {'build_digest':>12s} {'bare':>8s} {'ratio':>6s}")
    for kode, a, b, c, d in rows:
        print(f"  {kode:10s} {a * 1000:8.0f}ms {b * 1000:6.0f}ms {a / b:6.2f}   {c * 1000:10.0f}ms {d * 1000:6.0f}ms {c / d:6.2f}")
    iku_ratios = [a / b for _, a, b, _, _ in rows]
    dig_ratios = [c / d for _, _, _, c, d in rows]
    print(f"  iku_table / bare:    median {statistics.median(iku_ratios):.2f}, max {max(iku_ratios):.2f}  (target <= 1.5)")
    chart = chart_alone()
    no_chart = [(c - chart) / d for _, _, _, c, d in rows]
    print(f"  build_digest / bare: median {statistics.median(dig_ratios):.2f}, max {max(dig_ratios):.2f}  "
          f"(target <= 1.5); without the chart ({chart * 1000:.0f} ms to draw alone): "
          f"median {statistics.median(no_chart):.2f}, max {max(no_chart):.2f}")

    t_kab, kab = timed(lambda: build_kabupaten_digest(db, offices, WEEK), 1)
    print(f"  kabupaten digest: {len(offices)} IKU tables as of {kab.as_of} in {t_kab * 1000:.0f} ms, "
          f"{len(kab.parts)} messages, longest {max(len(p) for p in kab.parts):,} characters")
    span, worst = simulate_round(len(offices), len(kab.parts))
    print(f"  pacing, one shared leadership group: {2 * len(offices) + len(kab.parts)} messages over "
          f"{span:.0f} s, at most {worst} in any 60 s (Telegram: {GROUP_LIMIT} a minute per group)")


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--size", type=int, default=31_000, help="complaints (and SKM answers) in all")
    ap.add_argument("--kecamatan", type=int, default=31)
    ap.add_argument("--backends", default="postgresql")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--measure", type=int, default=0, help="time only the first K kecamatan (0: all)")
    args = ap.parse_args()
    if not 1 <= args.kecamatan <= 99:
        print("--kecamatan: 1 sampai 99", file=sys.stderr)
        return 2
    print(f"bench/tenants.py: {args.size:,} complaints + {args.size:,} SKM answers over {args.kecamatan} "
          f"kecamatan, week {WEEK.code}, as of {AS_OF}; cpus {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kantor"
        folder.mkdir()
        offices = write_offices(folder, args.kecamatan)
        os.environ["SIGAP_OFFICE_DIR"] = str(folder)  # as a deployment of these offices would set it
        first = next(iter(offices))
        for backend in args.backends.split(","):
            if backend == "postgresql":
                with postgres_database(first) as db:
                    run_backend("PostgreSQL", db, offices, args.size, args.repeat, args.measure or len(offices))
            elif backend == "sqlite":
                db = Database(f"sqlite:///{tmp}/bench.db", kecamatan=first)
                migrate.upgrade(db)
                try:
                    run_backend("SQLite", db, offices, args.size, args.repeat, args.measure or len(offices))
                finally:
                    db.dispose()
            else:
                print(f"unknown backend {backend}", file=sys.stderr)
                return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
