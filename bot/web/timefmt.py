"""Times as people in an NHS trust read and type them: UK local time, plain words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _uk() -> tzinfo:
    try:
        return ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:  # a slim container without time zone data
        return UTC


UK = _uk()
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends


def show(value: datetime | None) -> str:
    """'Mon 23 Nov 2026, 20:41 GMT' in UK time, or '—' for no time."""
    if value is None:
        return "—"
    local = value.astimezone(UK)
    return local.strftime("%a %d %b %Y, %H:%M ") + (local.tzname() or "")


def for_input(value: datetime | None) -> str:
    """A time as a datetime-local form field value (UK time), or ''."""
    return value.astimezone(UK).strftime(INPUT_FORMAT) if value else ""


def parse_input(text: str) -> datetime | None:
    """A UK-time form value as an aware UTC datetime; None when blank or not a time."""
    text = text.strip()
    if not text:
        return None
    for fmt in (INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            naive = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=UK).astimezone(UTC)
    return None


def duration(delta: timedelta) -> str:
    """'71 h 5 min', '7 min', or '5 days 4 h' beyond four days (always positive).

    Hours up to four days, because the rule people know is "72 hours".
    """
    minutes = int(abs(delta).total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    if hours >= 96:
        days, hours = divmod(hours, 24)
        return f"{days} days {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min"


def time_left(deadline: datetime, now: datetime, running: bool) -> tuple[str, str]:
    """(words, tone) for the 72-hour clock: tone is 'stopped', 'overdue', 'urgent' or 'ok'."""
    if not running:
        return "clock stopped", "stopped"
    left = deadline - now
    if left <= timedelta(0):
        return f"overdue by {duration(left)}", "overdue"
    tone = "urgent" if left <= timedelta(hours=24) else "ok"
    return f"{duration(left)} left", tone
