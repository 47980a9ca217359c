"""Test helpers for logins with a second factor (issue 10 part 2).

`Client.force_login` skips the password; in the suite it also finishes the second factor for users who
need one (the root conftest wraps it), as a real login with password and code would. Tests of the rule
itself log in through the pages (`client.post('/login/')`) or mark themselves `real_second_factor`.
"""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY


def mark_verified(client: Client, user: Any) -> None:
    """Put the user's (demo or new) TOTP device in the client's session, as `django_otp.login` does."""
    from shouhu.accounts.otp import confirmed_device, ensure_demo_device, needs_second_factor

    if not needs_second_factor(user):
        return
    device = confirmed_device(user)
    if device is None:
        ensure_demo_device(user)
        device = confirmed_device(user)
    assert device is not None
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def force_login_with_second_factor(original: Any) -> Any:
    def force_login(self: Client, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        mark_verified(self, user)

    return force_login


def totp_for(user: Any, *, fresh: bool = True) -> str:
    """A code the user's device accepts now: the next unused time step (within django-otp's tolerance
    of one step), so two logins in the same 30 s both succeed as two phones' codes would not."""
    import time

    from django_otp.oath import TOTP

    from shouhu.accounts.otp import confirmed_device, ensure_demo_device

    device = confirmed_device(user)
    if device is None:
        ensure_demo_device(user)
        device = confirmed_device(user)
    assert device is not None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now_t = totp.t()
    t = max(now_t, device.last_t + 1) if fresh else now_t
    totp.time = time.time() + (t - now_t) * device.step
    return f"{totp.token():0{device.digits}d}"
