"""The kit as a schedule: a calendar (ICS, RFC 5545) and a CSV a marketer imports into an email or social scheduler.

Every drafted asset is one send (each email of a sequence is its own): on its stage's day of the journey
(``knowledge/timing.yaml``) plus, for a sequence's email or a win-back email, its own ``send_day`` after its
``trigger``. Days count from a start date (the day the kit was made unless one is given). The calendar has one
all-day event per send; the CSV one row per send with its day, date, trigger, stage, asset type, channel,
subject or headline, body and call to action.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from generator.asset_base import channel_rules
from generator.assets import ASSET_TYPES
from generator.kit_models import KitEntry, KitReport
from generator.settings import load_settings
from generator.stages import STAGE_IDS, StageId, get_stage

CSV_HEADER = ("day", "date", "trigger", "stage", "asset type", "channel", "subject/headline", "body", "call to action")
# Where each column's text comes from, first field present wins (a sequence's email has its own fields).
HEADLINE_FIELDS = ("subject", "subject_line", "email_subject", "headline", "optin_headline", "hook", "title",
                   "offer_name", "name", "program_name", "poll_question", "the_ask", "welcome_message")  # fmt: skip
BODY_FIELDS = ("body", "message", "primary_text", "intro_text", "email_body", "sales_copy", "post", "subhead",
               "welcome_message", "sharer_invite", "pitch", "opening", "angle", "why_strangers_care")  # fmt: skip
CTA_FIELDS = ("call_to_action", "form_cta", "checkbox_line", "the_ask", "question_for_reader", "closing_line",
              "invitation", "first_quick_win")  # fmt: skip


class StageTiming(BaseModel):
    model_config = ConfigDict(extra="forbid")
    day: int = Field(ge=0, le=3650)
    trigger: str = Field(min_length=1)


class Timing(BaseModel):
    """knowledge/timing.yaml, validated: each stage's day and trigger, and each asset type's channel."""

    model_config = ConfigDict(extra="forbid")
    stages: dict[StageId, StageTiming]
    channels: dict[str, str] = Field(default_factory=dict)


@cache
def load_timing() -> Timing:
    path = load_settings().knowledge_dir / "timing.yaml"
    timing = Timing.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    missing = [s for s in STAGE_IDS if s not in timing.stages]
    if missing:
        raise ValueError(f"{path} gives no day for the stage(s): {', '.join(missing)}")
    return timing


@dataclass(frozen=True)
class Send:
    """One thing that goes out: an asset, or one email of a sequence."""

    key: str
    number: int  # 1-based within its asset (the email's place in a sequence; 1 for a single asset)
    day: int
    date: date
    trigger: str
    stage: str
    asset_type: str
    label: str
    channel: str
    headline: str
    body: str
    call_to_action: str


def _first(data: dict[str, Any], names: tuple[str, ...]) -> str:
    value = next((data[n] for n in names if isinstance(data.get(n), str) and data[n].strip()), "")
    return str(value).strip()


def _channel(entry: KitEntry, data: dict[str, Any]) -> str:
    if isinstance(data.get("channel"), str) and data["channel"].strip():
        return str(data["channel"]).strip()
    rule = channel_rules().get(entry.asset_type)
    return rule.name if rule else load_timing().channels.get(entry.asset_type, "Any")


def _sends(entry: KitEntry, start: date) -> list[Send]:
    if entry.draft is None:  # not drafted: nothing to send
        return []
    timing = load_timing().stages[get_stage(entry.stage).id]
    data = entry.draft.asset
    cls = ASSET_TYPES.get(entry.asset_type)
    label = cls.label if cls else entry.asset_type
    parts = [p for v in data.values() if isinstance(v, list) for p in v if isinstance(p, dict) and "send_day" in p]
    common = {"key": entry.key, "stage": entry.stage, "asset_type": entry.asset_type, "label": label,
              "channel": _channel(entry, data)}  # fmt: skip
    out = []
    for number, part in enumerate(parts or [data], 1):
        day = timing.day + int(part.get("send_day") or 0)
        text = _first(part, BODY_FIELDS) or ("" if parts else entry.draft.as_text())
        out.append(
            Send(
                number=number,
                day=day,
                date=start + timedelta(days=day),
                trigger=str(part.get("trigger") or timing.trigger),
                headline=_first(part, HEADLINE_FIELDS),
                body=text,
                call_to_action=_first(part, CTA_FIELDS),
                **common,
            )
        )
    return out


def schedule(report: KitReport, start: date | None = None) -> list[Send]:
    """Every send of the kit, by day (journey order within a day, a sequence's emails in their order)."""
    first = start or report.created_at.date()
    sends = [s for entry in report.entries for s in _sends(entry, first)]
    return sorted(sends, key=lambda s: (s.day, STAGE_IDS.index(get_stage(s.stage).id)))


def to_csv(report: KitReport, start: date | None = None) -> str:
    """One row per send, with a header row (RFC 4180: CRLF line ends, quoted where needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for s in schedule(report, start):
        writer.writerow([s.day, s.date.isoformat(), s.trigger, s.stage, s.asset_type, s.channel, s.headline, s.body,
                         s.call_to_action])  # fmt: skip
    return buffer.getvalue()


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped, line breaks as \\n."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    return "\r\n".join([*out, current])


def to_ics(report: KitReport, start: date | None = None) -> str:
    """The kit as an iCalendar file: one all-day event per send, on its day from the start date."""
    stamp = report.created_at.strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//CVJ Kit//Journey calendar//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(report.business)}: customer journey"]  # fmt: skip
    for s in schedule(report, start):
        stage = get_stage(s.stage).name
        title = f"{stage} · {s.label}" + (f" {s.number}" if s.asset_type.endswith("_sequence") else "")
        details = [f"Day {s.day} of the journey ({s.trigger})", f"Channel: {s.channel}", "", s.headline, "", s.body]
        if s.call_to_action:
            details += ["", f"Call to action: {s.call_to_action}"]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{report.slug}.{s.key}.{s.number}@cvj-kit",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{s.date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{s.date + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(title + (': ' + s.headline if s.headline else ''))}",
            f"DESCRIPTION:{_escape(chr(10).join(details).strip())}",
            f"CATEGORIES:{_escape(stage)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
