"""The kit's schedule exports: an iCalendar file (RFC 5545) a calendar opens and a CSV a scheduler imports.

Both are parsed here as their consumers would: the calendar by the ``icalendar`` package, the CSV by the csv
module; the calendar's lines are also checked by hand against the RFC (CRLF, folded at 75 octets).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from generator.cli import app
from generator.drafts import AssetMeta, Draft
from generator.errors import ConfigError, UnknownStageError
from generator.export import ALL_FORMATS, FORMATS, export_kit, parse_formats
from generator.export.schedule import CSV_HEADER, load_timing, schedule, to_csv, to_ics
from generator.kit_models import KitEntry, KitReport, KitTotals
from generator.kit_plan import plan_kit
from generator.profile import load_profile
from generator.runtime import use_components
from generator.settings import PROJECT_ROOT, Settings
from generator.stages import STAGE_IDS
from tests.conftest import EXAMPLES
from tests.fakes import fake_components
from tests.test_asset_types import email
from tests.test_chains import GOOD_POST

START = date(2025, 1, 6)
DEFAULTS = ("social_post", "newsletter_issue", "lead_magnet", "entry_offer", "onboarding_wow", "ascension_offer",
            "review_request", "referral_program")  # fmt: skip
TRICKY = (
    'Commas, semicolons; a "quote", a back\\slash and\na second line, café ☕ and a long tail ' + "word " * 30 + "end."
)


def _entry(stage: str, asset_type: str, asset: dict[str, Any]) -> KitEntry:
    meta = AssetMeta(prompt_id=asset_type, prompt_version="1", provider="local", model="fake")
    made = Draft(business="Harbor Lane Coffee", stage=stage, asset_type=asset_type, asset=asset, meta=meta)  # type: ignore[arg-type]
    return KitEntry(key=f"{stage}.{asset_type}", stage=stage, asset_type=asset_type, draft=made)


@pytest.fixture
def report() -> KitReport:
    profile = load_profile(PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml")
    emails = [email(0, "Signed up for the cheat sheet"), {**email(2), "body": TRICKY}, email(5)]
    welcome = {"goal": "They brew with the cheat sheet.", "messages": emails}
    sms = {"message": "Harbor Lane Coffee: three roasts, shipped free, 12 USD. harborlanecoffee.example/flight",
           "opt_out": "Reply STOP to opt out"}  # fmt: skip
    winback = {"trigger": "No order in 60 days", "send_day": 3, "subject": "We roasted something new",
               "preview": "Three new bags.", "body": "It's been a while; come taste this month's roasts.",
               "call_to_action": "Restart your subscription."}  # fmt: skip
    entries = [
        _entry("aware", "social_post", GOOD_POST),
        _entry("subscribe", "welcome_sequence", welcome),
        KitEntry(key="subscribe.lead_magnet", stage="subscribe", asset_type="lead_magnet", error="model timed out"),
        _entry("convert", "sms_message", sms),
        _entry("ascend", "winback_email", winback),
    ]
    return KitReport(business=profile.name, slug=profile.slug, profile=profile, entries=entries, overview=[],
                     totals=KitTotals(), created_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC))  # fmt: skip


def test_each_send_is_on_its_stage_day_plus_its_own_send_day(report: KitReport) -> None:
    days = load_timing().stages
    sends = schedule(report, START)
    assert [(s.asset_type, s.number) for s in sends] == [  # by day: 0, 7, 9, 10, 12, 33
        ("social_post", 1), ("welcome_sequence", 1), ("welcome_sequence", 2), ("sms_message", 1),
        ("welcome_sequence", 3), ("winback_email", 1),
    ]  # fmt: skip
    welcome = [s for s in sends if s.asset_type == "welcome_sequence"]
    assert [s.day for s in welcome] == [days["subscribe"].day + d for d in (0, 2, 5)]
    assert welcome[0].trigger == "Signed up for the cheat sheet" and welcome[0].channel == "Email"
    winback = next(s for s in sends if s.asset_type == "winback_email")
    assert (winback.day, winback.trigger) == (days["ascend"].day + 3, "No order in 60 days")
    post = next(s for s in sends if s.asset_type == "social_post")
    assert (post.day, post.trigger, post.channel) == (days["aware"].day, days["aware"].trigger, "instagram")
    assert post.headline == GOOD_POST["hook"] and post.call_to_action == GOOD_POST["call_to_action"]
    sms = next(s for s in sends if s.asset_type == "sms_message")
    assert sms.channel == "SMS" and sms.body.startswith("Harbor Lane Coffee: three roasts")
    assert all(s.date == date.fromordinal(START.toordinal() + s.day) for s in sends)
    assert len(sends) == 6  # the lead magnet was not drafted: nothing to send
    assert schedule(report)[0].date == date(2025, 3, 14)  # no start: the day the kit was made


def test_the_csv_opens_in_a_spreadsheet_one_row_per_send(report: KitReport) -> None:
    text = to_csv(report, START)
    assert text.startswith(",".join(CSV_HEADER) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == CSV_HEADER == ("day", "date", "trigger", "stage", "asset type", "channel",
                                            "subject/headline", "body", "call to action")  # fmt: skip
    assert len(rows) == 6
    tricky = next(r for r in rows if r["body"].startswith("Commas"))
    assert tricky["body"] == TRICKY  # commas, quotes and line breaks survive the round trip
    assert tricky["day"] == str(load_timing().stages["subscribe"].day + 2)
    assert tricky["date"] == date.fromordinal(START.toordinal() + int(tricky["day"])).isoformat()
    assert {r["stage"] for r in rows} == {"aware", "subscribe", "convert", "ascend"}
    assert {r["asset type"] for r in rows} == {"social_post", "welcome_sequence", "sms_message", "winback_email"}


def test_the_calendar_opens_in_a_calendar_one_event_per_send(report: KitReport) -> None:
    text = to_ics(report, START)
    calendar = Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 6 and str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    assert len({str(e["UID"]) for e in events}) == 6
    starts = [e.decoded("DTSTART") for e in events]
    assert all(isinstance(d, date) and not isinstance(d, datetime) for d in starts)  # all-day events
    sends = schedule(report, START)
    assert starts == [s.date for s in sends]
    assert all(e.decoded("DTEND").toordinal() - d.toordinal() == 1 for e, d in zip(events, starts, strict=True))
    tricky = next(e for e in events if TRICKY in str(e["DESCRIPTION"]))  # escaped, folded and read back whole
    assert "Welcome sequence" in str(tricky["SUMMARY"]) and "Day 2 tip" in str(tricky["SUMMARY"])
    assert b"CATEGORIES:Aware\r\n" in events[0].to_ical()
    # RFC 5545 by hand: CRLF line ends, no line over 75 octets, continuation lines start with a space.
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert max(len(line.encode("utf-8")) for line in lines) <= 75
    assert lines[0] == "BEGIN:VCALENDAR" and lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 6
    unfolded = text.replace("\r\n ", "")
    assert all(":" in line for line in unfolded.split("\r\n")[:-1])


def test_schedule_formats_are_opt_in(report: KitReport, tmp_path: Path) -> None:
    assert FORMATS == ("md", "json", "docx", "html")  # what a kit writes by default is unchanged
    assert (*FORMATS, "ics", "csv") == ALL_FORMATS
    assert parse_formats("ics,CSV") == ["ics", "csv"]
    paths = export_kit(report, tmp_path, ["ics", "csv"], start=START)
    assert [p.name for p in paths] == ["kit.ics", "kit.csv"]
    assert Calendar.from_ical(paths[0].read_text(encoding="utf-8"))
    assert paths[0].read_bytes().count(b"\r\n") > 10  # written as is: CRLF, not translated
    with pytest.raises(ConfigError, match="ics, csv"):
        parse_formats("pdf")


def test_cvj_kit_drafts_more_types_and_writes_the_schedule(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "kits"
    with use_components(fake_components(settings)):
        result = CliRunner().invoke(app, ["kit", "-p", str(EXAMPLES[0]), "--stages", "subscribe,convert",
                                          "--add-types", "welcome_sequence,sms-message", "--formats", "ics,csv",
                                          "--start", "2025-01-06", "--out", str(out)])  # fmt: skip
    assert "Traceback" not in result.output and result.exit_code in (0, 2), result.output
    assert sorted(p.name for p in out.rglob("kit.*")) == ["kit.csv", "kit.ics"]
    rows = list(csv.DictReader(io.StringIO(next(out.rglob("kit.csv")).read_text(encoding="utf-8"), newline="")))
    types = [r["asset type"] for r in rows]
    assert types.count("welcome_sequence") == 3 and {"lead_magnet", "entry_offer", "sms_message"} <= set(types)
    assert all(r["date"] >= "2025-01-13" for r in rows)  # subscribe's day 7 and later, from the start date
    events = list(Calendar.from_ical(next(out.rglob("kit.ics")).read_text(encoding="utf-8")).walk("VEVENT"))
    assert len(events) == len(rows)


def test_the_kit_plan_adds_types_after_each_stages_default() -> None:
    plan = plan_kit(["subscribe", "convert"], extra_types=["sms_message", "welcome_sequence", "lead_magnet"])
    assert [i.key for i in plan] == ["subscribe.lead_magnet", "subscribe.welcome_sequence", "convert.entry_offer",
                                     "convert.sms_message"]  # fmt: skip
    assert plan[1].depends_on == ["subscribe.lead_magnet"] and plan[3].depends_on == ["convert.entry_offer"]
    assert [i.key for i in plan_kit()] == [f"{s}.{t}" for s, t in zip(STAGE_IDS, DEFAULTS, strict=True)]
    with pytest.raises(UnknownStageError, match="Unknown asset type"):
        plan_kit(extra_types=["podcast"])
