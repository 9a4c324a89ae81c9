"""The on-duty check (knowledge/records/staff_hours.py): settings.yml's staff_hours read into days
and times, checked on Asia/Shanghai's clock whatever the server's timezone; bad settings are
refused in Chinese."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from knowledge.records.staff_hours import StaffHours

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = "周一至周五 09:00-17:00"
SPLIT = "周一至周五 09:00-12:00,13:30-17:00；周六 09:00-12:00"


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """2026-12-07 is a Monday: day 0 = Monday … 6 = Sunday, in Shanghai."""
    return dt.datetime(2026, 12, 7 + day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(("spec", "when", "on_duty"), [
    (WEEKDAYS, at(0, 9, 0), True),          # opening minute
    (WEEKDAYS, at(0, 8, 59), False),
    (WEEKDAYS, at(2, 12, 30), True),
    (WEEKDAYS, at(4, 16, 59), True),
    (WEEKDAYS, at(4, 17, 0), False),        # the end is excluded
    (WEEKDAYS, at(5, 10, 0), False),        # Saturday
    (WEEKDAYS, at(6, 10, 0), False),        # Sunday
    (WEEKDAYS, at(1, 2, 0), False),         # night
    (SPLIT, at(0, 12, 30), False),          # lunch break
    (SPLIT, at(0, 13, 30), True),
    (SPLIT, at(5, 11, 59), True),           # Saturday morning
    (SPLIT, at(5, 12, 0), False),
    (SPLIT, at(6, 10, 0), False),
    ("每天 00:00-24:00", at(6, 23, 59), True),
    ("工作日 08:30-17:30", at(3, 8, 30), True),
    ("周末 10:00-16:00", at(5, 10, 0), True),
    ("周末 10:00-16:00", at(4, 10, 0), False),
    ("星期一-星期三 09:00-17:00", at(2, 9, 0), True),
    ("周一到周三 09:00-17:00", at(3, 9, 0), False),
    ("周六至周一 09:00-17:00", at(6, 9, 0), True),   # a range across the week's end
    ("周六至周一 09:00-17:00", at(1, 9, 0), False),
    ("周一、周三 09:00-11:00", at(2, 10, 0), True),
    ("周一、周三 09:00-11:00", at(1, 10, 0), False),
])
def test_on_duty(spec: str, when: dt.datetime, on_duty: bool) -> None:
    assert StaffHours.parse(spec, "Asia/Shanghai").on_duty(when) is on_duty


def test_the_clock_is_shanghai_whatever_timezone_the_time_comes_in() -> None:
    hours = StaffHours.parse(WEEKDAYS, "Asia/Shanghai")
    assert hours.on_duty(dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.timezone.utc)) is True   # 09:30 in Shanghai
    assert hours.on_duty(dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.timezone.utc)) is False  # 17:30 in Shanghai
    assert hours.on_duty(dt.datetime(2026, 12, 7, 9, 30)) is True  # naive: read as Shanghai time


@pytest.mark.parametrize("spec", ["", "周八 09:00-17:00", "周一至周五", "09:00-17:00", "周一至周五 17:00-09:00",
                                  "周一至周五 09:00-25:00", "周一至周五 9点到5点", "周一至周五 09:00-17:00 节假日除外"])
def test_a_setting_that_cannot_be_read_is_refused_in_chinese(spec: str) -> None:
    with pytest.raises(ValueError, match="staff_hours"):
        StaffHours.parse(spec, "Asia/Shanghai")


def test_an_unknown_timezone_is_refused_in_chinese() -> None:
    with pytest.raises(ValueError, match="staff_timezone"):
        StaffHours.parse(WEEKDAYS, "Mars/Olympus")


def test_the_shipped_setting_reads() -> None:
    from knowledge.settings import load_settings

    settings = load_settings()
    assert StaffHours.parse(settings.staff_hours, settings.staff_timezone).windows[0]
