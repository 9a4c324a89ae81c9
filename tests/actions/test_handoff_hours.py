"""action_handoff's on-duty flag (actions/handoff.py staff_on_duty): settings.yml staff_hours read
on Asia/Shanghai's clock; a setting that cannot be read claims neither on nor off duty."""

from __future__ import annotations

import pytest

from actions.handoff import staff_on_duty

pytestmark = pytest.mark.unit


def test_staff_hours_that_cannot_be_read_claim_neither_on_nor_off_duty() -> None:
    assert staff_on_duty("周八 9点", "Asia/Shanghai") is None
    assert staff_on_duty("周一至周五 09:00-17:00", "Nowhere/City") is None


def test_round_the_clock_hours_are_always_on_duty() -> None:
    assert staff_on_duty("每天 00:00-24:00", "Asia/Shanghai") is True
