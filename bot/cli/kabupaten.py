# `sigap kabupaten pembaca tambah|daftar|nonaktifkan`: the kabupaten's readers of the web
# dashboard (Bagian Organisasi, Inspektorat), who read every kecamatan (storage.kabupaten_access).
# Invariants: a reader exists only by this command (no chat command makes one: the kabupaten
# decides who reads all kecamatan); deactivating ends their links and sessions at once;
# a mistake the user can fix prints an Indonesian message on stderr and exits 1.
from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from bot.config.settings import load_settings


def register(sub: Any) -> None:
    """Add `kabupaten` to the `sigap` parser (called from bot.cli.sigap.parser)."""
    kab = sub.add_parser("kabupaten", help="pengguna tingkat kabupaten").add_subparsers(dest="kabupaten_what",
                                                                                        required=True)
    readers = kab.add_parser("pembaca", aliases=["readers"],
                             help="pembaca dasbor semua kecamatan (mis. Bagian Organisasi, Inspektorat)")
    ops = readers.add_subparsers(dest="action", required=True)
    add = ops.add_parser("tambah", aliases=["add"], help="daftarkan pembaca kabupaten")
    add.add_argument("--telegram-id", type=int, required=True, metavar="ID", help="ID pengguna Telegram (angka)")
    add.add_argument("--name", "--nama", dest="name", required=True, metavar="NAMA", help="nama dan unit kerja")
    add.set_defaults(func=cmd_readers, op="add")
    de = ops.add_parser("nonaktifkan", aliases=["nonaktif", "deactivate"],
                        help="nonaktifkan pembaca (tautan dan sesi dasbornya berakhir)")
    de.add_argument("--telegram-id", type=int, required=True, metavar="ID", help="ID pengguna Telegram (angka)")
    de.set_defaults(func=cmd_readers, op="deactivate")
    ls = ops.add_parser("daftar", aliases=["list"], help="daftar pembaca kabupaten")
    ls.set_defaults(func=cmd_readers, op="list")


def cmd_readers(args: argparse.Namespace) -> int:
    from bot.app.service import open_database
    from storage import kabupaten_access

    db = open_database(load_settings())
    now = datetime.now(UTC)
    try:
        # The readers are the kabupaten's, not a kecamatan's (not tenanted): the default
        # scope of the register is as good as any.
        with db.transaction() as s:
            if args.op == "add":
                try:
                    reader = kabupaten_access.add_reader(s, args.telegram_id, args.name, now)
                except ValueError as exc:
                    print(str(exc), file=sys.stderr)
                    return 1
                print(f"Pembaca kabupaten {reader.name} terdaftar, ID Telegram {reader.telegram_id}. "
                      "Kirim /dasbor di chat pribadi dengan bot untuk tautan masuk.")
            elif args.op == "deactivate":
                gone = kabupaten_access.deactivate_reader(s, args.telegram_id, now)
                if gone is None:
                    print(f"Tidak ada pembaca kabupaten dengan ID Telegram {args.telegram_id}.", file=sys.stderr)
                    return 1
                print(f"Pembaca kabupaten {gone.name} dinonaktifkan; tautan dan sesi dasbornya diakhiri.")
            else:
                rows = kabupaten_access.list_readers(s)
                if not rows:
                    print("Belum ada pembaca kabupaten. Tambahkan: "
                          "sigap kabupaten pembaca tambah --id-telegram ID --nama NAMA")
                for r in rows:
                    print(f"{r.telegram_id}\t{r.name}{'' if r.active else ' (nonaktif)'}")
    finally:
        db.dispose()
    return 0
