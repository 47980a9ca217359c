"""The second factor (R11.4, issue 10 part 2): TOTP (RFC 6238, 30 s, 6 digits) with django-otp, and
recovery codes as django-otp static tokens.

Who needs it: the roles marked `second_factor` in core/capabilities.py, plus the role codes county
policy adds (`second_factor_extra_roles`). Codes are checked under a row lock on the device, so one
code is accepted once even by two simultaneous requests (django-otp remembers the last time step).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from shouhu.core.access import access_of
from shouhu.core.capabilities import second_factor_roles
from shouhu.core.models import User
from shouhu.core.policy import param

RECOVERY_CODES = 10


def needs_second_factor(user: User) -> bool:
    """Does any active role of `user` require a second factor? (Fails closed: policy read errors raise.)"""
    roles = access_of(user).roles
    if not roles:
        return False
    extra = param("second_factor_extra_roles") or []
    return bool(roles & second_factor_roles(tuple(extra)))


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def base32_secret(device: TOTPDevice) -> str:
    """The device's key as the base32 text an authenticator app takes (no padding)."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def _clean(code: object) -> str:
    return "".join(str(code or "").split())[:16]


def verify_totp(user: User, code: object) -> bool:
    """A 6-digit TOTP of the user's confirmed device; a code already used (or an older one) is refused."""
    code = _clean(code)
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return False
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
        )
        return bool(device is not None and device.verify_token(code))


def verify_any(user: User, code: object) -> TOTPDevice | StaticDevice | None:
    """A TOTP or one of the user's recovery codes (each works once); the device that matched, or None."""
    code = _clean(code)
    if verify_totp(user, code):
        return confirmed_device(user)
    with transaction.atomic():
        for device in StaticDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(code):
                return device
    return None


def new_device(user: User) -> TOTPDevice:
    """An unconfirmed TOTP device for enrolment (the previous unconfirmed one is replaced)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)


@transaction.atomic
def confirm_device(user: User, device: TOTPDevice, code: object) -> list[str] | None:
    """Confirm enrolment with a first code; returns fresh recovery codes (shown once), or None."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token(_clean(code)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODES new ones (10 characters each)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


# --- the demo county's logins: deterministic secrets, public like the demo password ------------------


def demo_key(username: str) -> bytes:
    """20 bytes derived from the username only, so every machine's demo gives the same secret."""
    return hmac.new(b"shouhu-demo-totp", username.encode(), hashlib.sha256).digest()[:20]


def ensure_demo_device(user: User) -> str:
    """A confirmed TOTP device with the demo key (kept if it exists); returns its base32 secret."""
    key = demo_key(user.username)
    TOTPDevice.objects.get_or_create(user=user, confirmed=True, defaults={"name": "demo", "key": key.hex()})
    device = confirmed_device(user)
    assert device is not None
    return base32_secret(device)


def code_now(device_or_secret: TOTPDevice | str, *, step_offset: int = 0) -> str:
    """The current 6-digit code of a device or base32 secret (tests, `bench/load.py`)."""
    if isinstance(device_or_secret, str):
        padded = device_or_secret + "=" * (-len(device_or_secret) % 8)
        key = base64.b32decode(padded)
    else:
        key = device_or_secret.bin_key
    totp = TOTP(key, 30, 0, 6, 0)
    totp.time = totp.time + step_offset * 30
    return f"{totp.token():06d}"


@transaction.atomic
def reset_second_factor(*, user: User, reason: str) -> int:
    """The server operator's recovery when a phone and its recovery codes are lost: remove the user's
    devices (the next login enrols again). Recorded in the sealed chain; returns the devices removed."""
    from shouhu.core.events import record_event

    removed = (
        TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    )
    record_event(
        verb="auth.second_factor_reset",
        subject_type="core.user",
        subject_id=str(user.pk),
        actor=None,
        summary=_("重置 %(u)s 的动态验证码（服务器运维命令）") % {"u": user.username},
        after={"username": user.username, "reason": reason.strip()[:300]},
    )
    return removed
