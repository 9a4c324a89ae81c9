"""When clerks answer handoffs: settings.yml's ``staff_hours`` read into days and times, and the
on-duty check the handoff reply and the staff desk share.

The setting is written as a hall would post it: day ranges, then time ranges, several parts
separated by "；" or ";"::

    周一至周五 09:00-17:00
    周一至周五 09:00-12:00,13:30-17:00；周六 09:00-12:00
    每天 00:00-24:00

Days: 周一…周日 (also 星期一…, 周天, 周末 = 周六和周日, 每天 / 工作日). A range "周一至周五" may also be
written "周一-周五" or "周一到周五". Times are 24-hour HH:MM, the end excluded; "24:00" ends a day.
The check runs on the clock of ``staff_timezone`` (Asia/Shanghai), whatever the server's own
timezone is. Public holidays and 调休 working weekends are not known: on such a day the reply may
say staff are on duty when the hall is closed (the hotline is always in the reply).

Usage::

    hours = StaffHours.parse("周一至周五 09:00-17:00", "Asia/Shanghai")
    hours.on_duty(datetime(2026, 12, 7, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))   # True (a Monday)
    hours.on_duty()                                                                # now
    StaffHours.parse("周八 9点", "Asia/Shanghai")   # ValueError: 人工服务时间 staff_hours 无法识别 …
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAY_NAMES = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY = r"(?:周|星期|礼拜)([一二三四五六日天七])"
_DAY_RANGE = re.compile(rf"{_DAY}(?:\s*(?:至|到|-|－|~|～|—)\s*{_DAY})?")
_TIME_RANGE = re.compile(r"(\d{1,2})[:：](\d{2})\s*(?:-|－|~|～|—|至|到)\s*(\d{1,2})[:：](\d{2})")
_PARTS = re.compile(r"[；;\n]+")
_ALL_DAYS = {"每天": range(7), "每日": range(7), "全周": range(7), "工作日": range(5), "周末": (5, 6)}


@dataclass(frozen=True)
class StaffHours:
    """Per weekday (Monday 0), the (start, end) minute ranges staff are on duty."""

    text: str
    windows: tuple[tuple[tuple[int, int], ...], ...]
    timezone: ZoneInfo

    @classmethod
    def parse(cls, text: str, timezone: str = "Asia/Shanghai") -> StaffHours:
        """Read `text` (see the module docstring); ValueError in Chinese when it cannot be read."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"staff_timezone 不是有效的时区：{timezone!r}（例如 Asia/Shanghai）") from None
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        parts = [part.strip() for part in _PARTS.split(text or "") if part.strip()]
        if not parts:
            raise ValueError("人工服务时间 staff_hours 为空：请写成“周一至周五 09:00-17:00”")
        for part in parts:
            weekdays, times = _part(part)
            for day in weekdays:
                days[day].extend(times)
        return cls(text.strip(), tuple(tuple(sorted(windows)) for windows in days), zone)

    def on_duty(self, when: dt.datetime | None = None) -> bool:
        """Whether staff are on duty at `when` (aware; naive means staff_timezone), by default now."""
        moment = dt.datetime.now(self.timezone) if when is None else (
            when.replace(tzinfo=self.timezone) if when.tzinfo is None else when.astimezone(self.timezone))
        minute = moment.hour * 60 + moment.minute
        return any(start <= minute < end for start, end in self.windows[moment.weekday()])


def _part(part: str) -> tuple[list[int], list[tuple[int, int]]]:
    """One "days times" part: its weekdays and its minute ranges."""
    problem = f"人工服务时间 staff_hours 无法识别：“{part}”。请写成“周一至周五 09:00-17:00”，多段用“；”分隔"
    times = []
    for match in _TIME_RANGE.finditer(part):
        start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if start_m > 59 or end_m > 59 or end > 24 * 60 or start >= end:
            raise ValueError(problem + f"（时间段 {match.group(0)} 不对：结束须晚于开始，最晚 24:00）")
        times.append((start, end))
    day_text = _TIME_RANGE.sub(" ", part)
    weekdays: set[int] = set()
    for word, days in _ALL_DAYS.items():
        if word in day_text:
            weekdays.update(days)
            day_text = day_text.replace(word, " ")
    for match in _DAY_RANGE.finditer(day_text):
        first = _DAY_NAMES[match.group(1)]
        last = _DAY_NAMES[match.group(2)] if match.group(2) else first
        weekdays.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)])
    leftover = re.sub(r"[\s,，、和及]+", "", _DAY_RANGE.sub("", day_text))
    if not times or not weekdays or leftover:
        raise ValueError(problem)
    return sorted(weekdays), times
