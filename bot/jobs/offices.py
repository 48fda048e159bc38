# Which kecamatan the scheduled work (digest, reminders, retention) runs for, and the Runtime
# each of them runs with.
# Invariants: the deployment's own office (the office file, or the one the Service was given)
# comes first and keeps its Runtime unchanged, so a deployment of one office file runs
# exactly as before. The other kecamatan come only from a folder named on purpose
# (SIGAP_OFFICE_DIR): the shipped folder also holds Arjasa, and a Jelbuk deployment that never
# configured Arjasa must not start posting, reminding or purging for it. A kecamatan other
# than the first never inherits SIGAP_TRANTIB_CHAT_ID: that group is the first office's, and
# another kecamatan's digest or reminders there would show its cases to the wrong office.
from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

from bot.config.office import Office, load_office, load_offices
from bot.config.settings import Settings
from bot.config.workcalendar import deadline_policy
from bot.dialogs.context import Runtime


def served_offices(settings: Settings, first: Office) -> dict[str, Office]:
    """{kode wilayah: Office}, `first` first, then the other offices of SIGAP_OFFICE_DIR in kode
    order (none when it is unset)."""
    offices = {first.kode_wilayah: first}
    if settings.office_dir is not None:
        for kode, office in load_offices(settings.office_dir).items():
            offices.setdefault(kode, office)
    return offices


def office_by_kode(settings: Settings, kode: str | None) -> Office:
    """For a command's --kecamatan: the office file's office (kode None or its own), or another
    of SIGAP_OFFICE_DIR; ValueError in Indonesian, naming the ones there are, otherwise."""
    first = load_office(settings.office_file)
    if not kode or kode == first.kode_wilayah:
        return first
    offices = served_offices(settings, first)
    if kode not in offices:
        known = ", ".join(f"{k} ({o.kecamatan})" for k, o in offices.items())
        hint = "" if settings.office_dir else " SIGAP_OFFICE_DIR belum diatur."
        raise ValueError(f"Kecamatan {kode} tidak dilayani; yang ada: {known}.{hint}")
    return offices[kode]


def runtime_for(rt: Runtime, office: Office) -> Runtime:
    """The Runtime of one kecamatan: its office, its calendar and time zone; the shared parts
    (button secret, bot name, data folder, dashboard) as the first office's."""
    if office is rt.office:
        return rt
    return dataclasses.replace(
        rt,
        office=office,
        policy=deadline_policy(office),
        tz=ZoneInfo(office.timezone),
        env_trantib_group=None,
    )


__all__ = ["office_by_kode", "runtime_for", "served_offices"]
