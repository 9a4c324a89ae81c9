"""Phone numbers as admins write them: the shapes a contact's phone may take (`phone_problem`, on the
contacts' own lines), and the numbers a guide's body shows (`body_phone_problems`: a number that is none of
the contacts' is warned about on its line: an admin changed a phone and not the body).

Usage::

    phone_problem("02154321", "02154321", "联系单位", "phone")      # (message, "error"|"warning") or None
    phone_numbers("电话 0731-12345678、87654321")                   # [PhoneNumber(...), PhoneNumber(...)]
    body_phone_problems(lines, first_line, body_start, contacts, complaint_phone)   # [(line, message), ...]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from knowledge.sources.model import Contact

# The phone shapes districts write, checked after NFKC normalisation (full-width digits, brackets
# and "－" become ASCII). A phone that fits none of them is only warned about: formats vary too
# much between districts for a pattern to block a publish; only a phone YAML misread, a list, or
# text without a digit is an error.
_DASH = r"[-\u2010-\u2015\u2212\u2e3a\u2e3b]{1,2}"  # any dash, "——" as typed on Chinese keyboards
_GAP = rf"\s*(?:{_DASH}\s*)?"  # between the parts of one number: "0731-", "0731 - ", "0731 ", "0731"
_INTERNATIONAL = rf"(?:\+\s*|00)86{_GAP}"  # +86-731-12345678: the area code then drops its 0
_AREA = rf"(?:\(\s*0\d{{2,3}}\s*\)|0\d{{2,3}}|{_INTERNATIONAL}(?:\(\s*0?\d{{2,3}}\s*\)|0?\d{{2,3}}))"
_ONE_PHONE = (
    r"(?:"
    rf"{_AREA}{_GAP}\d{{3,4}}{_GAP}\d{{4}}"  # landline: 0731-12345678, (0731) 12345678, +86-731-…
    rf"|[2-9]\d{{2,3}}{_GAP}\d{{4}}"  # local 7–8 digits: 87654321 (local numbers never start with 0 or 1)
    rf"|(?:{_INTERNATIONAL}|86{_GAP})?1[3-9]\d(?:{_GAP}\d{{4}}){{2}}"  # mobile: 13800138000, 138-0013-8000
    r"|1\d{4}|9[56]\d{3,6}"  # service numbers: 12345, 12333, 95598, 95105888, 96xxx
    rf"|[48]00(?:{_GAP}\d){{7}}"  # 400-820-8820, 800 numbers
    r"|11[09]|12[02]"  # emergency numbers a unit may list (110, 119, 120, 122)
    r")"
)
# An extension or menu digits, possibly several: 转801、802, -801, 分机 8001, 12345转3.
_EXTENSION = rf"(?:\s*(?:转|分机号?|ext\.?|x|{_DASH})\s*\d{{1,6}}(?:\s*[、,/]\s*\d{{1,6}})*)?"
_NOTE = r"(?:\s*\([^()]{1,20}\))?"  # 12345(24小时)
_SEPARATOR = r"(?:\s*(?:[、/;,]|或者?|和|及)\s*|\s+)"
_FIRST_NUMBER = re.compile(rf"{_ONE_PHONE}{_EXTENSION}{_NOTE}", re.IGNORECASE)
# After the first number, 7–8 digits alone are the same landline's other number ("0731-12345678、
# 87654321", "…/12345679"): the area code is left out, as on the districts' own pages.
_NEXT_NUMBER = re.compile(rf"{_SEPARATOR}(?:{_ONE_PHONE}|\d{{7,8}}){_EXTENSION}{_NOTE}", re.IGNORECASE)
PHONE_HINT = (
    "能识别的写法：座机 0000-1234567（区号可加括号，本地号码可不带区号），分机写成 0000-1234567转801；"
    "手机 11 位；12345、95598 这样的服务号码；400/800 号码；多个号码用“、”“/”或空格隔开"
)
# Longer text is not a phone field gone slightly wrong; the limits also bound the matching work.
_LONGEST_PHONE_TEXT = 200
_LONGEST_NUMBER = 60  # one number with its separator, extensions and note


def is_phone_shaped(text: str) -> bool:
    """Whether `text` reads as one or more phone numbers (see `_ONE_PHONE`), however it is typed:
    full-width, with any dash, in brackets."""
    normal = unicodedata.normalize("NFKC", text).strip()
    if len(normal) > _LONGEST_PHONE_TEXT:
        return False
    # Number by number, keeping every place where one can end. One regex for the whole list would
    # try every way of splitting a long text that fails (exponential time); this is at most quadratic.
    ends = set(_number_ends(_FIRST_NUMBER, normal, 0))
    done: set[int] = set()
    while pending := ends - done:
        start = min(pending)
        done.add(start)
        ends.update(_number_ends(_NEXT_NUMBER, normal, start))
    return len(normal) in ends


def _number_ends(pattern: re.Pattern[str], text: str, start: int) -> list[int]:
    """Every position where a match of `pattern` starting at `start` can end."""
    last = min(len(text), start + _LONGEST_NUMBER)
    return [end for end in range(start + 1, last + 1) if pattern.fullmatch(text, start, end)]


def phone_problem(value: Any, typed: str | None, what: str, key: str) -> tuple[str, str] | None:
    """(message, severity) for what is wrong with a phone field, or None. `value` is what YAML made
    of it, `typed` the text the admin wrote when known. Only a phone citizens would get wrong is an
    error: YAML read an unquoted 02154321 as octal 579793, or it is a list, or it has no digit."""
    if value is not None and not isinstance(value, str):
        if typed is None or isinstance(value, (list, dict)):  # no single typed text to compare
            return f"{what}的电话应是一个加引号的号码，如 {key}: \"0000-1234567\"；多个号码写在同一对引号里，用“、”隔开", "error"
        check = "" if is_phone_shaped(typed) else f"；另外“{typed}”不像电话号码。{PHONE_HINT}"
        if str(value) != typed:
            return (f"{what}的电话 {typed} 没有加引号，YAML 把它读成了 {value}：请加上引号，写成 {key}: \"{typed}\"{check}",
                    "error")
        # Read back unchanged (12345, 13812345678): citizens see what was typed; the quotes are
        # still advised, as the next number typed there may be one YAML misreads.
        return (f"{what}的电话 {typed} 没有加引号，YAML 会把它当成数字，这次读到的号码没有变：建议加上引号，"
                f"写成 {key}: \"{typed}\"，以免改号码时被读错{check}", "warning")
    phone = "" if value is None else value.strip()
    if not phone:
        return f"{what}缺少电话（phone）", "error"
    if not any(character.isdigit() for character in phone):
        return f"{what}的电话“{phone}”不含数字", "error"
    if not is_phone_shaped(phone):
        return f"{what}的电话“{phone}”不像电话号码，请核对（仍照原样发布）。{PHONE_HINT}", "warning"
    return None


@dataclass(frozen=True)
class PhoneNumber:
    """One phone number found in a text: as it stands there (NFKC: ASCII digits and brackets), and
    its digits split into the area code ("0731"; "" when not written) and the rest."""

    text: str
    area: str
    local: str

    def same_as(self, other: PhoneNumber) -> bool:
        """The same line whether or not the area code, dashes, brackets or +86 are written:
        0731-12345678, (0731)12345678, +86-731-12345678 and 12345678 are one number; two different
        area codes make two numbers. An extension (转801) is not compared."""
        if self.local != other.local:
            return (self.area + self.local) == (other.area + other.local)
        return not self.area or not other.area or self.area == other.area


# Phone numbers in running text (a guide's body), where other numbers abound: years, amounts, dates,
# document numbers (〔2023〕12号), standards (GB 17761-2018), counts. Only shapes that are phones in
# Chinese text are taken: a landline with its area code, an 11-digit mobile, a 400/800 number; a local
# number without area code (87654321, 8765-4321) only where the sentence speaks of a phone (电话、拨打、
# 咨询…) or right after another number ("0731-12345678、87654321"). Service numbers (12345, 12333,
# 95598, 110) are never taken: they are nationwide hotlines and app names (“交管12123”), not a unit's own line.
_LOCAL_WORDS = re.compile(r"电话|热线|拨打|致电|来电|联系|咨询|传真|手机|座机|号码|总机|值班|tel|☎|📞", re.IGNORECASE)
# A count or an amount, not a number to call: 20000000元, 12345678个, 2020-2022年.
_UNIT = (r"(?:元|万|亿|千|百|年|月|日|号|个|人|次|户|平|米|吨|份|天|条|%|件|家|辆|台|名|册|股|亩|公里|公斤|克|斤|小时|分钟|秒|岁|倍"
         r"|字|页|张|本|间|座|套|项|批|[kKmMgG][bB]\b)")
_TEXT_PHONE = re.compile(
    r"(?<![0-9A-Za-z.#_=&?@%~])(?:"
    rf"(?:{_INTERNATIONAL}|86{_GAP})?(?P<mobile>1[3-9]\d(?:{_GAP}\d{{4}}){{2}})(?!\d|\.\d|{_UNIT})"  # first: +86 138… is no area 013
    rf"|(?:\(\s*(?P<area>0\d{{2,3}})\s*\)|(?P<area2>0\d{{2,3}})|{_INTERNATIONAL}(?:\(\s*0?(?P<area3>\d{{2,3}})\s*\)|0?(?P<area4>\d{{2,3}})))"
    rf"{_GAP}(?P<landline>\d{{3,4}}{_GAP}\d{{4}})(?!\d|\.\d)"
    rf"|(?P<free>[48]00(?:{_GAP}\d){{7}})(?!\d|\.\d)"
    rf"|(?P<local>[2-9]\d{{2,3}}{_DASH}\d{{4}}|[2-9]\d{{6,7}})(?!\d|\.\d|\s*{_UNIT})"
    r")",
)
_URL = re.compile(r"(?:https?://|www\.)[!-~]+", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[。；;！？!?\n]")
_NEXT_TO = re.compile(r"\s*(?:[、,，/;；]|或者?|和|及)?\s*")  # between a number and the next one of a list
_YEARS = re.compile(r"(?:19|20)\d\d\D+(?:19|20)\d\d")
# Seven digits with at most brackets, spaces, dashes or "+" between them (full-width too: \d is Unicode).
_SEVEN_DIGITS = re.compile(r"\d(?:[\s()（）+\-\u2010-\u2015\u2212\u2e3a\u2e3b－]*\d){6}")
_NOT_A_LINE = re.compile(r"(?:QQ|微信|群号?|账号|帐号|卡号|编号|单号)\s*[:：]?\s*$", re.IGNORECASE)  # QQ:13800138000


def may_hold_phone(text: str) -> bool:
    """Whether `text` has digits enough for a phone number anywhere: a cheap test before `phone_numbers`."""
    return _SEVEN_DIGITS.search(text) is not None


def phone_numbers(text: str, *, phone_field: bool = False) -> list[PhoneNumber]:
    """The phone numbers in `text`, in order (see `_TEXT_PHONE`). `phone_field`: `text` is a phone
    field (contacts' phone), where a local number needs no word before it."""
    if not may_hold_phone(text):
        return []  # most lines: no number could be a phone (the shortest is 7 digits)
    normal = _URL.sub(lambda url: " " * len(url.group()), unicodedata.normalize("NFKC", text))
    found: list[PhoneNumber] = []
    previous_end = -1
    for match in _TEXT_PHONE.finditer(normal):
        if _NOT_A_LINE.search(normal, max(0, match.start() - 8), match.start()):
            continue
        if match["local"]:
            follows = previous_end >= 0 and _NEXT_TO.fullmatch(normal, previous_end, match.start()) is not None
            clause = _CLAUSE_END.split(normal[max(0, match.start() - 30) : match.start()])[-1]
            if _YEARS.fullmatch(match["local"]) or not (phone_field or follows or _LOCAL_WORDS.search(clause)):
                continue
        area = match["area"] or match["area2"] or ("0" + (match["area3"] or match["area4"]) if match["area3"] or match["area4"] else "")
        local = match["landline"] or match["mobile"] or match["free"] or match["local"]
        found.append(PhoneNumber(match.group().strip(), area, re.sub(r"\D", "", local)))
        previous_end = match.end()
    return found


def body_phone_problems(lines: Sequence[str], first_line: int, body_start: int, contacts: Sequence[Contact],
                        complaint_phone: str) -> list[tuple[int, str]]:
    """(line, warning) for each body line that shows a phone number none of the contacts has (nor complaint_phone).

    This is what an admin who changed a contact's phone (a new window, a new number) and not the body
    leaves behind: citizens get the new number from "电话多少" and the old one in 办理地点. Only a
    warning: it may be another office's number on purpose (a rescue station), and the guide is
    published as written. `lines` start on file line `first_line`; those before `body_start` (the
    first section) are not published and not read."""
    if not may_hold_phone("\n".join(lines)):  # most guides: no digits that could be a phone anywhere
        return []
    if not any(character.isdigit() for contact in contacts for character in contact.phone):
        return []  # no contact phone to compare with: an error of its own, reported on contacts
    known = [number for contact in contacts for number in phone_numbers(contact.phone, phone_field=True)]
    known += phone_numbers(complaint_phone, phone_field=True)
    phones = list(dict.fromkeys(contact.phone for contact in contacts if contact.phone))
    listed = "、".join(phones[:5]) + (f" 等 {len(phones)} 个" if len(phones) > 5 else "")
    problems: list[tuple[int, str]] = []
    for offset, raw in enumerate(lines):
        if first_line + offset < body_start or not may_hold_phone(raw):
            continue
        shown: set[str] = set()
        for number in phone_numbers(raw):
            if number.text in shown or any(number.same_as(contact) for contact in known):
                continue
            shown.add(number.text)
            problems.append((first_line + offset,
                             f"正文里的电话 {number.text} 不在 contacts 的电话（{listed}）里：群众问电话时拿到的是 contacts 的号码，"
                             "看正文却是这个号码。换了号码的，请把正文也改成新号码；确实是别的单位的电话的，可以不改（照原样发布）"))
    return problems
