"""The staff desk's credential (bot/channels/kefu/desk_auth.py): a cookie naming the clerk, signed
with the staff token, valid for a working day; forged, expired, re-signed or citizen cookies fail;
the desk closes itself when its token is missing or equals the citizens'."""

from __future__ import annotations

import pytest

from bot.channels.kefu.auth import SESSION_MAX_AGE_SECONDS, TokenAuth
from bot.channels.kefu.desk_auth import StaffAuth

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


def test_the_cookie_names_the_clerk_for_a_working_day() -> None:
    clock = Clock()
    staff = StaffAuth("staff-token", citizen_token="citizen-token", clock=clock)
    cookie = staff.issue_cookie("王芳 0123")
    assert "王芳" not in cookie and staff.clerk_of(cookie) == "王芳 0123"
    clock.now += SESSION_MAX_AGE_SECONDS - 1
    assert staff.clerk_of(cookie) == "王芳 0123"
    clock.now += 1
    assert staff.clerk_of(cookie) is None


def test_forged_and_foreign_cookies_name_nobody() -> None:
    staff = StaffAuth("staff-token", citizen_token="citizen-token")
    issued, _name, signature = staff.issue_cookie("王芳").split(".")
    other_name = StaffAuth("staff-token").issue_cookie("李强").split(".")[1]
    assert staff.clerk_of(f"{issued}.{other_name}.{signature}") is None  # another name under the same signature
    assert staff.clerk_of(StaffAuth("another-token").issue_cookie("王芳")) is None
    assert staff.clerk_of(TokenAuth("citizen-token").issue_cookie()) is None  # the kiosk's cookie
    for junk in ("", "...", "x.y.z", f"{issued}..{signature}", f"{issued}.%%%.{signature}"):
        assert staff.clerk_of(junk) is None


@pytest.mark.parametrize(("token", "citizen"), [(None, "citizen-token"), ("", "citizen-token"), ("same", "same")])
def test_the_desk_is_closed_without_its_own_token(token: str | None, citizen: str) -> None:
    staff = StaffAuth(token, citizen_token=citizen)
    assert not staff.enabled and not staff.token_matches(citizen)
    assert staff.clerk_of(staff.issue_cookie("王芳")) is None
