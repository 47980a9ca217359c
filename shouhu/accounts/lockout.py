"""Login lockout (R11.4, issue 10 part 1): by username and by address, `login_failure_limit` failures in
`login_failure_window_minutes` lock for `login_lock_minutes` (core/policy.py).

Why our own and not django-axes: the lock must be checked *before* any password hashing on three paths
(the login page, the API token endpoint, /admin/), must count a wrong second factor as a failure, must
answer the API with 429 `locked_out` and `Retry-After`, must be a sealed audit event, and must be seen
and lifted by a supervisor within their region (`auth.lockouts`). With axes each of these is glue around
its own handler, models and admin; here it is one backend, one signal and two small tables
(docs/architecture.md).

How it stays cheap: `LockoutBackend` runs first in AUTHENTICATION_BACKENDS and, for a locked username or
address, refuses with one indexed query and no hashing. Failures while locked are not even recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shouhu.accounts.models import LockKind, LoginFailure, LoginLock
from shouhu.core.access import access_of, can
from shouhu.core.events import record_event
from shouhu.core.models import RoleAssignment, User
from shouhu.core.policy import param


def norm(username: str | None) -> str:
    return (username or "").strip().lower()[:150]


def _keys(username: str, address: str | None) -> Q:
    q = Q(kind=LockKind.USERNAME, key=norm(username))
    if address:
        q |= Q(kind=LockKind.ADDRESS, key=address)
    return q


def locked_until(username: str | None, address: str | None, now: datetime | None = None) -> datetime | None:
    """The end of the lock on this username or address (the later one), or None. One indexed query."""
    now = now or timezone.now()
    return (
        LoginLock.objects.filter(_keys(username or "", address), until__gt=now, lifted_at__isnull=True)
        .order_by("-until")
        .values_list("until", flat=True)
        .first()
    )


def retry_after(until: datetime, now: datetime | None = None) -> int:
    """Seconds until the lock ends, for the `Retry-After` header (at least 1)."""
    return max(int((until - (now or timezone.now())).total_seconds()) + 1, 1)


def _region_of(username: str) -> str:
    a = (
        RoleAssignment.objects.active()
        .filter(user__username__iexact=username)
        .select_related("organisation")
        .order_by("starts_at")
        .first()
    )
    if a is None:
        return ""
    return a.region_id or (a.organisation.region_id if a.organisation else "") or ""


def _count_since(kind: str, key: str, now: datetime) -> tuple[int, datetime]:
    """Failures for `key` in the window, counted after the end of its previous lock (so a lifted or
    expired lock does not come straight back with the next mistake)."""
    since = now - timedelta(minutes=int(param("login_failure_window_minutes")))
    last = LoginLock.objects.filter(kind=kind, key=key).order_by("-locked_at").first()
    if last is not None:
        since = max(since, min(last.lifted_at or last.until, now))
    field = "username" if kind == LockKind.USERNAME else "address"
    return LoginFailure.objects.filter(**{field: key, "at__gt": since}).count(), since


@transaction.atomic
def record_failure(username: str | None, address: str | None, reason: str = "password") -> LoginLock | None:
    """Count one failed login; lock the username and/or the address when the limit is reached (an audit
    event each). Returns the lock created, if any."""
    now = timezone.now()
    user_key = norm(username)
    LoginFailure.objects.create(username=user_key, address=address or "", at=now, reason=reason)
    limit = int(param("login_failure_limit"))
    minutes = int(param("login_lock_minutes"))
    created: LoginLock | None = None
    for kind, key in ((LockKind.USERNAME, user_key), (LockKind.ADDRESS, address or "")):
        if not key:
            continue
        count, _since = _count_since(kind, key, now)
        if count < limit:
            continue
        region = _region_of(key) if kind == LockKind.USERNAME else ""
        lock = LoginLock.objects.create(
            kind=kind,
            key=key,
            locked_at=now,
            until=now + timedelta(minutes=minutes),
            failures=count,
            region_code=region,
        )
        record_event(
            verb="auth.locked_out",
            subject_type="accounts.loginlock",
            subject_id=str(lock.pk),
            actor=None,
            region_code=region,
            summary=_("登录锁定：%(kind)s %(key)s，%(n)s 次失败")
            % {"kind": lock.get_kind_display(), "key": key, "n": count},
            after={"kind": kind, "key": key, "failures": count, "until": lock.until, "reason": reason},
        )
        created = created or lock
    return created


def _covers(actor: User, lock: LoginLock) -> bool:
    holding = access_of(actor).holding("auth.lockouts")
    if lock.region_code:
        return holding.covers_code(lock.region_code)
    # an address, or a username with no role: county-level holders only
    return holding.anywhere or any(len(p) <= 6 for p in holding.prefixes)


def active_locks(actor: User) -> list[LoginLock]:
    """The locks in force that `actor` may see and lift (`auth.lockouts` over their region)."""
    if not can(actor, "auth.lockouts"):
        return []
    rows: QuerySet[LoginLock] = LoginLock.objects.filter(
        until__gt=timezone.now(), lifted_at__isnull=True
    ).order_by("-locked_at")
    return [lock for lock in rows[:500] if _covers(actor, lock)]


class NotFound(Exception):
    pass


@transaction.atomic
def lift(*, actor: User, lock_id: int) -> LoginLock:
    """End a lock before its time (the user called the supervisor). Out of reach: NotFound (404)."""
    lock = LoginLock.objects.select_for_update().filter(pk=lock_id).first()
    if (
        lock is None
        or lock.lifted_at is not None
        or not can(actor, "auth.lockouts")
        or not _covers(actor, lock)
    ):
        raise NotFound
    lock.lifted_at, lock.lifted_by = timezone.now(), actor
    lock.save(update_fields=["lifted_at", "lifted_by"])
    record_event(
        verb="auth.lock_lifted",
        subject_type="accounts.loginlock",
        subject_id=str(lock.pk),
        actor=actor,
        region_code=lock.region_code,
        summary=_("解除登录锁定：%(key)s") % {"key": lock.key},
        after={"kind": lock.kind, "key": lock.key},
    )
    return lock
