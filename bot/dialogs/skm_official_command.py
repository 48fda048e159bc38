# /skm_resmi: the official e-SUKMA IKM of a period (IKU 2), typed in chat.
#   /skm_resmi                          the current figures of this year, and the format
#   /skm_resmi 2026-Q1 84,12 150 "No. dokumen"   record (or correct) a period's figure
#   /skm_resmi hapus 2026-Q1 [alasan]    withdraw it (the history stays)
#   /skm_resmi riwayat 2026-Q1           every entry of the period
# Invariants: roles are checked by bot.dialogs.iku_commands.handle (koordinator, pimpinan,
# admin write; every officer reads); a malformed command records nothing and raises
# RegisterError, answered there with the reason and this format.
from __future__ import annotations

import shlex

from bot.dialogs.context import Ctx
from bot.reports import iku_report as rep
from bot.reports import skm_official as official
from storage.iku import RegisterError


def _words(args: str) -> list[str]:
    # Phones often type typographic quotes: “No. dokumen” is quoted like "No. dokumen".
    args = args.replace("\u201c", '"').replace("\u201d", '"')
    try:
        return shlex.split(args)
    except ValueError:  # an unbalanced quote: take the words as typed
        return args.split()


def skm_official_command(ctx: Ctx, args: str, who: str) -> None:
    words = _words(args)
    if not words:
        ctx.say("skm_resmi", **official.list_context(ctx.session, ctx.today.year))
        ctx.say("iku_format", perintah="skm_resmi", jenis_dokumen=rep.DOC_TYPES)
        return
    action = words[0].lower()
    if action == "hapus":
        if len(words) < 2:
            raise RegisterError("Perintah hapus perlu PERIODE, contoh /skm_resmi hapus 2026-Q1.")
        period = official.parse_official_period(words[1])
        note = " ".join(words[2:]) or None
        ctx.say("skm_resmi", **official.remove_context(ctx.session, period, who, ctx.now, note))
        return
    if action == "riwayat":
        if len(words) != 2:
            raise RegisterError("Perintah riwayat perlu PERIODE, contoh /skm_resmi riwayat 2026-Q1.")
        ctx.say("skm_resmi", **official.history_context(ctx.session, official.parse_official_period(words[1])))
        return
    if len(words) < 4:
        raise RegisterError("Isian perintah tidak lengkap: perlu PERIODE, NILAI, RESPONDEN dan DOKUMEN.")
    period = official.parse_official_period(words[0])
    value = rep.parse_decimal(words[1], "Nilai IKM")
    respondents = official.parse_respondents(words[2])
    document = " ".join(words[3:])
    ctx.say("skm_resmi", **official.record_official(ctx.session, ctx.office, period, value, respondents,
                                                    document, who, ctx.now))
