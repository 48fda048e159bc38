# The `sigap` command speaks Indonesian (usage, help, argparse errors) and ends every failure
# a person can meet with one Indonesian line and a non-zero exit, never a traceback.
from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.sigap import main
from storage.db import describe_url
from tests.conftest import Register

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # On both backends (`register` sets SIGAP_DATABASE_URL for PostgreSQL).
    monkeypatch.setenv("SIGAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SIGAP_TELEGRAM_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    handlers = logging.getLogger().handlers[:]
    level = logging.getLogger().level
    yield tmp_path
    root = logging.getLogger()  # `sigap run` configures logging; give pytest its own back
    root.handlers[:] = handlers
    root.setLevel(level)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse exits for usage errors and --help
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_usage_errors_are_indonesian(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main([], capsys)
    assert code == 2
    assert err.startswith("penggunaan: sigap [-h] PERINTAH ...")
    assert "sigap: kesalahan: argumen berikut wajib diisi: PERINTAH" in err
    code, _, err = run_main(["petugas", "tambah", "--telegram-id", "x"], capsys)
    assert code == 2
    assert "argumen --id-telegram: nilai int tidak sah: 'x'" in err  # the English alias is not named
    code, _, err = run_main(["pengaduan", "hapus-semua"], capsys)
    assert code == 2
    assert "pilihan tidak sah: 'hapus-semua'" in err
    code, _, err = run_main(["petugas", "daftar", "--warna"], capsys)
    assert "argumen tidak dikenal: --warna" in err
    for text in (err,):
        assert "usage" not in text and "error" not in text and "required" not in text


def test_help_is_indonesian_and_lists_indonesian_names(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["--help"], capsys)
    assert code == 0
    assert "opsi:" in out and "tampilkan bantuan ini lalu keluar" in out
    assert "jalankan (run)" in out and "petugas (officers)" in out
    for english in ("usage:", "options:", "show this help"):
        assert english not in out
    # Subcommands of other modules get their Indonesian name from the shared parser class.
    code, out, _ = run_main(["skm", "--help"], capsys)
    assert "laporan (report)" in out and "impor (import)" in out


def test_indonesian_and_english_names_run_the_same_command(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["petugas", "tambah", "--telegram-id", "11", "--nama", "Bu Sekcam", "--peran", "admin"], capsys)[0] == 0
    assert run_main(["officers", "add", "--telegram-id", "12", "--name", "Budi", "--role", "petugas"], capsys)[0] == 0
    code, out, _ = run_main(["petugas", "daftar"], capsys)
    assert code == 0
    assert out == "11\tadmin\tBu Sekcam\n12\tpetugas\tBudi\n"
    # The alias reaches a module that dispatches on the English name (cli_skm: report).
    code, _, err = run_main(["skm", "laporan"], capsys)
    assert code == 2 and "argumen berikut wajib diisi: --periode" in err


def test_options_have_indonesian_names_and_english_hidden_aliases(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Help shows only the Indonesian option names, with Indonesian value names.
    for argv, indonesian, english in (
        (["skm", "laporan", "--help"], ["--periode PERIODE", "--grafik GRAFIK"], ["--period", "--chart"]),
        (["digest", "--help"], ["--coba", "--kirim", "--minggu MINGGU", "--grafik GRAFIK"],
         ["--dry-run", "--send", "--week", "--chart"]),
        (["iku", "laporan", "--help"], ["--tahun TAHUN"], ["--year"]),
        (["skm", "qr", "--help"], ["--keluaran KELUARAN"], ["--out"]),
        (["skm", "impor", "--help"], ["--lewati-salah"], ["--skip-invalid"]),
        (["sandbox", "--help"], ["--skrip SKRIP"], ["--script"]),
        (["petugas", "tambah", "--help"], ["--id-telegram ID", "--nama NAMA", "--peran PERAN"],
         ["--telegram-id", "--name", "--role"]),
        (["retensi", "--help"], ["--coba"], ["--dry-run"]),
    ):
        code, out, _ = run_main(argv, capsys)
        assert code == 0, argv
        for name in indonesian:
            assert name in out, (argv, name, out)
        for name in english:  # "--period" is a prefix of "--periode": whole names only
            assert not re.search(re.escape(name) + r"(?![a-z-])", out), (argv, name, out)
    assert run_main(["skm", "laporan", "--help"], capsys)[1].startswith("penggunaan: sigap skm laporan ")
    # Both spellings run the same command (scripts written with the English ones keep working).
    for argv in (["petugas", "tambah", "--id-telegram", "21", "--nama", "Sari", "--peran", "petugas"],
                 ["petugas", "tambah", "--telegram-id", "22", "--name", "Joko", "--role", "petugas"]):
        assert run_main(argv, capsys)[0] == 0
    assert run_main(["petugas", "daftar"], capsys)[1] == "21\tpetugas\tSari\n22\tpetugas\tJoko\n"
    for argv in (["skm", "laporan", "--periode", "2026-Q4"], ["skm", "report", "--period", "2026-Q4"]):
        code, out, _ = run_main(argv, capsys)
        assert code == 0 and "2026" in out, (argv, out)
    # Errors name the option by its Indonesian name, whichever was typed.
    code, _, err = run_main(["digest", "--dry-run", "--send"], capsys)
    assert code == 2 and "argumen --kirim: tidak boleh bersama argumen --coba" in err
    code, _, err = run_main(["iku", "laporan", "--year"], capsys)
    assert code == 2 and "argumen --tahun: perlu satu nilai" in err


def test_a_missing_file_is_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["pengaduan", "impor", str(env / "tidak-ada.csv")], capsys)
    assert code == 1
    assert err == f"Berkas atau folder tidak ditemukan: {env / 'tidak-ada.csv'}\n"


def test_a_file_where_the_data_folder_should_be_is_one_line(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SQLite: the register's folder is a file; both: the export goes into that "folder".
    (env / "data").write_text("bukan folder")
    code, _, err = run_main(["pengaduan", "ekspor", "--csv", str(env / "data" / "x.csv")], capsys)
    assert code == 1
    assert err.startswith("Berkas dan folder tidak cocok")
    assert err.count("\n") == 1


def test_a_missing_folder_for_the_export_is_one_line(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["pengaduan", "ekspor", "--csv", str(env / "tidak-ada" / "x.csv")], capsys)
    assert code == 1
    assert err == f"Berkas atau folder tidak ditemukan: {env / 'tidak-ada' / 'x.csv'}\n"


def test_database_down_is_one_line_without_password(
    register: Register, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if register.backend == "postgresql":
        # PostgreSQL down: the same server address style, on a port nothing listens on.
        url = f"postgresql+psycopg://postgres:rahasia123@127.0.0.1:{closed_port()}/sigap"
        monkeypatch.setenv("SIGAP_DATABASE_URL", url)
    else:
        # The register's file is a folder: SQLite cannot open the database.
        (env / "data" / "sigap.db").mkdir(parents=True)
        monkeypatch.setenv("SIGAP_DATABASE_URL", f"sqlite:///{env / 'data' / 'sigap.db'}")
    code, out, err = run_main(["petugas", "daftar"], capsys)
    assert code == 4
    assert out == ""
    assert err.startswith("Basis data tidak dapat dihubungi: ")
    assert err.endswith("Periksa SIGAP_DATABASE_URL dan server basis datanya.\n")
    assert err.count("\n") == 1
    assert "rahasia123" not in err


def test_a_closed_pipe_ends_quietly(register: Register, tmp_path: Path) -> None:
    # Run from tmp_path (its own data/), importing the project from the source tree.
    env = dict(os.environ, SIGAP_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT), **register.env())
    cmd = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*cmd, "petugas", "tambah", "--telegram-id", "1", "--nama", "A", "--peran", "admin"],
                   env=env, cwd=tmp_path, check=True, capture_output=True)
    for args in (["petugas", "daftar"], ["--help"]):
        read, write = os.pipe()
        os.close(read)  # `sigap ... | head` after head has gone
        try:
            done = subprocess.run([*cmd, *args], env=env, cwd=tmp_path, stdout=write,
                                  stderr=subprocess.PIPE, text=True, timeout=60)
        finally:
            os.close(write)
        assert done.returncode == 1, done.stderr
        assert done.stderr == ""


def test_run_without_network_retries_then_says_so(
    register: Register,
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGAP_TELEGRAM_TOKEN", "123456:ABCdef")
    monkeypatch.setenv("SIGAP_TELEGRAM_API_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("SIGAP_TELEGRAM_START_ATTEMPTS", "3")
    monkeypatch.setenv("SIGAP_TELEGRAM_START_BACKOFF", "0,01")
    code, out, err = run_main(["jalankan"], capsys)
    assert code == 3
    # Which register it opened, as an absolute path: data/ depends on the working folder.
    if register.backend == "sqlite":
        assert out == f"Register dibuka: SQLite {(env / 'data' / 'sigap.db').resolve()}\n"
    else:
        assert out == f"Register dibuka: {describe_url(register.url(env / 'data'))}\n"
        assert out.startswith("Register dibuka: postgresql+psycopg://")
    assert err.count("Telegram belum dapat dihubungi") == 2
    assert "mencoba lagi dalam 0,01 detik (percobaan 1 dari 3)" in err
    assert "mencoba lagi dalam 0,02 detik (percobaan 2 dari 3)" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("Telegram tidak dapat dihubungi setelah 3 percobaan")
    assert last.endswith("Periksa jaringan dan SIGAP_TELEGRAM_API_URL, lalu jalankan lagi.")
    assert "123456:ABCdef" not in out + err


def test_ctrl_c_is_one_line(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("bot.cli.sigap.cmd_officers", interrupted)
    code, out, err = run_main(["petugas", "daftar"], capsys)
    assert (code, out, err) == (130, "", "Dihentikan.\n")
