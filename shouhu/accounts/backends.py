"""`LockoutBackend`: first in AUTHENTICATION_BACKENDS, so a locked username or address is refused
before any backend hashes a password (issue 10 part 1: hammering must not slow anyone else down)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from shouhu.accounts import lockout
from shouhu.core.clientip import client_ip


class LockoutBackend:
    """Authenticates nobody; raises PermissionDenied (which stops `authenticate()`) while locked, and
    leaves the lock's end on the request (`shouhu_locked_until`) for the view's answer.

    Deliberately no `get_user` (not a BaseBackend): Django's test client and session code pick the
    first backend that has one, and this one never logs anybody in."""

    def authenticate(self, request: Any, username: str | None = None, **kwargs: Any) -> None:
        if request is None or username is None:
            return None
        until = lockout.locked_until(username, client_ip(request))
        if until is not None:
            request.shouhu_locked_until = until
            raise PermissionDenied("locked out")
        return None
