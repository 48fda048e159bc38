# The message templates render with trim_blocks: the newline right after a block tag is
# dropped. A tag closing a line of text therefore glues that line to the next one
# ("Laporan: 0Jawaban survei ...", cards whose history entries ran together). Such a tag
# must be written `+%}` to keep its newline. This test finds every place that forgets it.
from __future__ import annotations

import re
from pathlib import Path

import bot
from bot.texts import render

TEMPLATES = Path(bot.__file__).parent / "templates"
CLOSING_TAG = re.compile(r"\{%-?\s*(endif|endfor|else|endset)\s*-?%\}$")
TAG_ONLY = re.compile(r"^\s*\{%.*%\}$")


def test_no_text_line_loses_its_newline_to_a_closing_tag() -> None:
    glued = []
    for path in sorted(TEMPLATES.glob("*.j2")):
        lines = path.read_text(encoding="utf-8").split("\n")
        for number, (line, following) in enumerate(zip(lines, lines[1:], strict=False), 1):
            if CLOSING_TAG.search(line) and not TAG_ONLY.match(line) and following.strip():
                glued.append(f"{path.name}:{number}")
    assert glued == []


def test_officer_list_has_one_officer_per_line() -> None:
    class Row:
        def __init__(self, tid: int, role: str, name: str, active: bool) -> None:
            self.telegram_id, self.role, self.name, self.active = tid, role, name, active

    text = render("petugas_daftar", petugas=[Row(1, "admin", "Ani", True), Row(2, "petugas", "Budi", False)])
    assert text.splitlines()[1:3] == ["1 · admin · Ani", "2 · petugas · Budi (nonaktif)"]
