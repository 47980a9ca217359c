"""The permission matrix, generated from the capability table (issue 9; DESIGN principle 1).

Every URL and API endpoint × every role × an object in the role's reach (world A), an object out of
every demo login's reach (world B, another county) and a missing object. The expected answer is not
written per page: it is derived from `capabilities.ROLES` and the capability each view declares
(`@scoped(...)`, `shouhu_capabilities`):

- anonymous: the login page (web) or 401 (API);
- a role whose row does not grant the capability: 403 — whatever the object, so it reveals nothing;
- a missing object, or one out of the user's reach: 404, exactly alike (R11.1);
- otherwise the page or the action answers (200 for a read; for a write with an empty body, its
  refusal or its redirect — anything but 401/403/404/405 or a 500).

A view whose capability depends on what its URL or its object names (the document service's views: a
document kind, a record type, or a document or attachment named only by id) is entered once per kind of
record, with what that record's owner declares (`core/documents/owners.py`, `kinds.py`):

- `gate`: the capability asked before any object is looked up (the kind's, or the owner's attach
  capability), instead of the view's declared outer one: without it, 403;
- `needs`: the record's own view capability: without it the object is out of reach, 404 like missing
  (a document or attachment id must not tell what it belongs to);
- `act`: the action checked on the object once fetched: without it, 403 (in reach only).

This replaces the hand-written matrices of the web, care, protection and ledger tests. A URL added
without an entry in `URLS` fails `test_every_scoped_url_is_in_the_matrix`; an entry name may carry a
`#variant` after the URL name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver, reverse
from rest_framework.test import APIClient

from shouhu.core.access import forget_access
from shouhu.core.capabilities import CAPABILITIES, GROUPS, ROLES, holds
from shouhu.core.documents import kinds, owners
from shouhu.core.models import RoleAssignment, User
from shouhu.web.tests.test_url_walk import access, walk
from shouhu.web.tests.worlds import MISSING_UUID, World, build_world_a, build_world_b

pytestmark = pytest.mark.django_db

# One login per role of API.md whose reach covers world A, nobody with no role, and logins of the same
# roles in another township (world A is out of their reach).
IN_REACH_OF_A = [
    "admin",
    "county",
    "sup",
    "vw",
    "officer",
    "school",
    "edu",
    "doctor",
    "social",
    "volunteer",
    "leader",
    "auditor",
]
ELSEWHERE = ["sup_other", "vw_other", "officer_other"]
USERS = [*IN_REACH_OF_A, "nobody", *ELSEWHERE]
MISSING_INT = 987654321
OWN_KINDS = ("report", "job")  # the user's own rows: in world A for every user (their reach is themselves)
Caps = str | tuple[str, ...]
KW = Callable[[World | None, User], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    """How to call one URL: the kind of object it is about (None: none), its URL kwargs for a world
    (None for "missing") and the user, and the HTTP methods to try; `data`, the query or body to send
    (`fmt`: how the API body is encoded); `gate`, `needs`, `act`: see the module docstring."""

    kind: str | None
    kwargs: KW | None = None
    methods: tuple[str, ...] = ("get",)
    data: KW | None = None
    fmt: str = "json"
    gate: Caps | None = None
    needs: Caps | None = None
    act: Caps | None = None


def _pk(attr: str) -> Callable[[World | None, User], dict[str, Any]]:
    def kw(w: World | None, u: User) -> dict[str, Any]:
        return {"pk": getattr(w, attr).pk if w else MISSING_UUID}

    return kw


def _int(attr: str, name: str) -> Callable[[World | None, User], dict[str, Any]]:
    def kw(w: World | None, u: User) -> dict[str, Any]:
        return {name: getattr(w, attr).pk if w else MISSING_INT}

    return kw


def _own(mapping: str) -> Callable[[World | None, User], dict[str, Any]]:
    """The user's own report or import job in world A; world B's owner's in world B."""

    def kw(w: World | None, u: User) -> dict[str, Any]:
        if w is None:
            return {"pk": MISSING_UUID}
        rows = getattr(w, mapping)
        row = rows.get(u.pk) or next(iter(rows.values()))
        return {"pk": row.pk}

    return kw


def _child(**extra: Any) -> Callable[[World | None, User], dict[str, Any]]:
    def kw(w: World | None, u: User) -> dict[str, Any]:
        return {"pk": w.child.pk if w else MISSING_UUID, **extra}

    return kw


def _case(**extra: Any) -> Callable[[World | None, User], dict[str, Any]]:
    def kw(w: World | None, u: User) -> dict[str, Any]:
        return {"pk": w.case.pk if w else MISSING_UUID, **extra}

    return kw


# --- the document service: one entry per record type (owner) and URL -----------------------------------

MISSING_OF = {
    "registry.child": MISSING_UUID,
    "registry.agreement": MISSING_INT,
    "care.visit": MISSING_INT,
    "protection.case": MISSING_UUID,
    "protection.petition": MISSING_INT,
    "protection.report": MISSING_UUID,
    "schooling.dropout": MISSING_UUID,
}
OWNER_KIND = {  # the matrix's kind of object of each owner type ("report": each user's own)
    "registry.child": "child",
    "registry.agreement": "child",
    "care.visit": "child",
    "protection.case": "case",
    "protection.petition": "case",
    "protection.report": "report",
    "schooling.dropout": "dropout",
}
ATTACHABLE = ("registry.child", "registry.agreement", "care.visit", "protection.case", "protection.petition")
# The field group the world's document of each owner needs beyond seeing the record (worlds.PAPER_DOCUMENTS)
DOCUMENT_NEEDS = {
    "registry.child": "child.schooling",
    "registry.agreement": "child.family",
    "care.visit": "child.care",
    "protection.report": owners.get("protection.report").view,
}


def _record(w: World | None, u: User, owner_type: str) -> Any:
    if w is None:
        return MISSING_OF[owner_type]
    if owner_type == "protection.report":
        return (w.reports.get(u.pk) or next(iter(w.reports.values()))).pk
    attr = {"registry.child": "child", "registry.agreement": "agreement", "care.visit": "visit"}.get(
        owner_type, owner_type.split(".")[1]
    )
    return getattr(w, attr).pk


def _document(owner_type: str) -> KW:
    def kw(w: World | None, u: User) -> dict[str, Any]:
        if w is None:
            return {"pk": MISSING_UUID}
        if owner_type == "protection.report":
            return {"pk": (w.answers.get(u.pk) or next(iter(w.answers.values()))).pk}
        return {"pk": w.documents[owner_type].pk}

    return kw


def _attachment(owner_type: str) -> KW:
    return lambda w, u: {"pk": w.attachments[owner_type].pk if w else MISSING_UUID}


def _query(owner_type: str) -> KW:
    return lambda w, u: {"owner_type": owner_type, "owner": str(_record(w, u, owner_type))}


def _generate_kw(kind: kinds.DocumentKind) -> KW:
    return lambda w, u: {"kind": kind.code, "owner_id": _record(w, u, kind.owner_type)}


def _generate_body(kind: kinds.DocumentKind) -> KW:
    return lambda w, u: {"kind": kind.code, "owner": str(_record(w, u, kind.owner_type))}


def _upload_kw(owner_type: str) -> KW:
    return lambda w, u: {"owner_type": owner_type, "owner_id": _record(w, u, owner_type)}


def _upload_body(owner_type: str) -> KW:
    return lambda w, u: {**_query(owner_type)(w, u), "category": "photo"}


def _paper_entries() -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for kind in kinds.all_kinds():
        if kind.code.startswith("test."):
            continue
        owner = owners.get(kind.owner_type)
        what = OWNER_KIND[owner.code]
        out[f"web:document_generate#{kind.code}"] = Entry(
            what,
            _generate_kw(kind),
            POST,
            gate=kind.capability,
            needs=owner.view,
        )
        out[f"api-documents#{kind.code}"] = Entry(
            what,
            None,
            POST,
            data=_generate_body(kind),
            gate=kind.capability,
            needs=owner.view,
        )
    for owner_type, needs in DOCUMENT_NEEDS.items():
        what = OWNER_KIND[owner_type]
        for name in ("web:document_download", "api-document", "api-document-pdf"):
            out[f"{name}#{owner_type}"] = Entry(what, _document(owner_type), needs=needs)
    for owner_type in (*ATTACHABLE, "protection.report"):
        owner = owners.get(owner_type)
        what = OWNER_KIND[owner_type]
        out[f"web:attachment_upload#{owner_type}"] = Entry(
            what,
            _upload_kw(owner_type),
            POST,
            gate=owner.attach,
            needs=owner.view,
        )
        out[f"api-attachments#upload-{owner_type}"] = Entry(
            what,
            None,
            POST,
            data=_upload_body(owner_type),
            fmt="multipart",
            gate=owner.attach,
            needs=owner.view,
        )
        out[f"api-documents#list-{owner_type}"] = Entry(what, None, data=_query(owner_type), needs=owner.view)
        out[f"api-attachments#list-{owner_type}"] = Entry(
            what, None, data=_query(owner_type), needs=owner.view
        )
    for owner_type in ATTACHABLE:
        owner = owners.get(owner_type)
        what = OWNER_KIND[owner_type]
        for name in ("web:attachment_download", "api-attachment", "api-attachment-content"):
            out[f"{name}#{owner_type}"] = Entry(what, _attachment(owner_type), needs=owner.view)
        for name in ("web:attachment_remove", "api-attachment-remove"):
            out[f"{name}#{owner_type}"] = Entry(
                what, _attachment(owner_type), POST, needs=owner.view, act=owner.attach
            )
    out["api-document-kinds"] = Entry(None)
    return out


GET, POST, GET_POST = ("get",), ("post",), ("get", "post")
URLS: dict[str, Entry] = {
    # children
    "web:child_list": Entry(None),
    "web:child_create": Entry(None, methods=GET_POST),
    "web:child_lookup": Entry(None),
    "web:child_detail": Entry("child", _pk("child")),
    "web:child_reveal": Entry("child", _pk("child"), POST),
    "web:child_edit": Entry("child", _pk("child"), GET_POST),
    "web:guardian_edit": Entry("child", _child(role="carer"), GET_POST),
    "web:grandparents_edit": Entry("child", _pk("child"), GET_POST),
    "web:agreement_add": Entry("child", _pk("child"), GET_POST),
    "web:household": Entry("child", _pk("child")),
    "web:household_save": Entry("child", _pk("child"), POST),
    "web:member_add": Entry("child", _pk("child"), POST),
    "web:plan_add": Entry("child", _pk("child"), POST),
    "web:plan_done": Entry(
        "child",
        lambda w, u: {"pk": w.child.pk if w else MISSING_UUID, "item": w.plan_item if w else MISSING_INT},
        POST,
    ),
    "web:child_duplicates": Entry(None),
    "web:child_archive": Entry("child", _pk("child"), POST),
    "web:child_reactivate": Entry("child", _pk("child"), POST),
    "web:child_transfer": Entry("child", _pk("child"), POST),
    "web:child_merge": Entry("child", _pk("child"), POST),
    # care
    "web:care_today": Entry(None),
    "web:care_alerts": Entry(None),
    "web:care_alert_resolve": Entry("alert", _int("alert", "alert_id"), POST),
    "web:care_villages": Entry(None),
    "web:care_sessions": Entry(None, methods=GET_POST),
    "web:care_webhooks": Entry(None),
    "web:care_child": Entry("child", _pk("child")),
    "web:care_contact_add": Entry("child", _pk("child"), GET_POST),
    "web:care_visit_add": Entry("child", _pk("child"), GET_POST),
    "web:care_assignment_add": Entry("child", _pk("child"), POST),
    "web:care_admonition_add": Entry("child", _pk("child"), POST),
    # protection
    "web:report_new": Entry(None, methods=GET_POST),
    "web:my_reports": Entry(None),
    "web:report_progress": Entry("report", _own("reports")),
    "web:case_list": Entry(None),
    "web:case_detail": Entry("case", _pk("case")),
    "web:case_transition": Entry("case", _pk("case"), POST),
    "web:case_action": Entry("case", _case(action="follow_up"), POST),
    "web:referral_list": Entry(None),
    "web:referral_respond": Entry("referral", _pk("referral"), POST),
    "web:protection_accountability": Entry(None),
    # ledger
    "web:ledger_home": Entry(None),
    "web:ledger_upload": Entry(None, methods=GET_POST),
    "web:ledger_job": Entry("job", _own("jobs")),
    "web:ledger_job_cancel": Entry("job", _own("jobs"), POST),
    "web:ledger_job_commit": Entry("job", _own("jobs"), POST),
    "web:ledger_job_errors": Entry("job", _own("jobs")),
    "web:ledger_export": Entry(None, methods=GET_POST),
    "web:ledger_review": Entry(None),
    "web:ledger_review_transition": Entry(
        "township", lambda w, u: {"code": w.township if w else "999999999000"}, POST
    ),
    "web:ledger_completeness": Entry(None),
    # schooling (issue 13)
    "web:schooling_home": Entry(None),
    "web:schooling_attendance": Entry(None, methods=GET_POST),
    "web:schooling_dropouts": Entry(None),
    "web:schooling_dropout": Entry("dropout", _pk("dropout")),
    "web:schooling_dropout_transition": Entry("dropout", _pk("dropout"), POST),
    "web:schooling_roster": Entry(None, methods=GET_POST),
    "web:schooling_marks": Entry(None),
    "web:schooling_census": Entry(None),
    "web:schooling_oversight": Entry(None),
    "enrolment-list": Entry(None, methods=GET_POST),
    "enrolment-detail": Entry("enrolment", _int("enrolment", "pk"), ("get", "put", "patch")),
    "absence-list": Entry(None, methods=GET_POST),
    "dropout-list": Entry(None),
    "dropout-detail": Entry("dropout", _pk("dropout")),
    "dropout-transitions": Entry("dropout", _pk("dropout"), POST),
    "dropout-attempts": Entry("dropout", _pk("dropout"), POST),
    "pairing-list": Entry(None, methods=GET_POST),
    "school-contact-list": Entry(None, methods=GET_POST),
    "wellbeing-list": Entry(None, methods=GET_POST),
    # users and roles, audit
    "web:user_list": Entry(None),
    "web:user_create": Entry(None, methods=GET_POST),
    "web:user_detail": Entry("user", _int("manageable", "pk"), GET_POST),
    "web:user_action": Entry(
        "user", lambda w, u: {"pk": w.manageable.pk if w else MISSING_INT, "action": "password"}, POST
    ),
    # logins (issue 10): lockouts (auth.lockouts) and service tokens (auth.tokens)
    "web:lockouts": Entry(None),
    "web:lockout_lift": Entry("lock", _int("lock", "pk"), POST),
    "web:service_tokens": Entry(None, methods=GET_POST),
    "web:service_token_revoke": Entry("token", _int("token", "pk"), POST),
    "web:audit_events": Entry(None),
    "web:audit_access": Entry(None),
    "web:audit_activity": Entry(None),
    "web:audit_events_csv": Entry(None),
    "web:audit_access_csv": Entry(None),
    # API
    "api-audit-events": Entry(None),
    "api-audit-access": Entry(None),
    "child-list": Entry(None, methods=GET_POST),
    "child-detail": Entry("child", _pk("child"), ("get", "put", "patch")),
    **{
        name: Entry("child", _pk("child"), POST)
        for name in ("child-archive", "child-reactivate", "child-transfer", "child-merge")
    },
    "child-contacts": Entry(
        "child", lambda w, u: {"child_id": str(w.child.pk if w else MISSING_UUID)}, GET_POST
    ),
    "child-visits": Entry(
        "child", lambda w, u: {"child_id": str(w.child.pk if w else MISSING_UUID)}, GET_POST
    ),
    "alert-list": Entry(None),
    "alert-detail": Entry("alert", _int("alert", "pk")),
    "report-list": Entry(None, methods=GET_POST),
    "report-detail": Entry("report", _own("reports")),
    "case-list": Entry(None),
    "case-detail": Entry("case", _pk("case")),
    "case-grounds": Entry("case", _pk("case")),
    **{
        name: Entry("case", _pk("case"), POST)
        for name in (
            "case-add-referral",
            "case-confirm-child",
            "case-follow-ups",
            "case-guardian-measures",
            "case-measures",
            "case-petitions",
            "case-placements",
            "case-reassign",
            "case-receive-reports",
            "case-searches",
            "case-transitions",
        )
    },
    "case-petition-update": Entry(
        "case",
        lambda w, u: {
            "pk": w.case.pk if w else MISSING_UUID,
            "petition_id": w.petition.pk if w else MISSING_INT,
        },
        POST,
    ),
    "referral-list": Entry(None),
    "referral-detail": Entry("referral", _pk("referral")),
    "referral-respond": Entry("referral", _pk("referral"), POST),
    "referral-close": Entry("referral", _pk("referral"), POST),
    # services and social forces (issue 17)
    "web:service_needs": Entry(None),
    "web:service_need": Entry("need", _pk("need")),
    "web:service_need_transition": Entry("need", _pk("need"), POST),
    "web:service_need_add": Entry("child", _pk("child"), POST),
    "web:service_providers": Entry(None),
    "web:service_programme": Entry("programme", _int("programme", "pk"), GET_POST),
    "web:service_sessions": Entry(None),
    "web:service_attendance": Entry("session", _int("session", "pk"), GET_POST),
    "web:service_source": Entry("child", _pk("child")),
    "web:service_source_save": Entry("child", _pk("child"), POST),
    "web:service_overview": Entry(None),
    "need-list": Entry(None, methods=GET_POST),
    "need-detail": Entry("need", _pk("need")),
    "need-transitions": Entry("need", _pk("need"), POST),
    "need-matches": Entry("need", _pk("need")),
    "provider-list": Entry(None, methods=GET_POST),
    "provider-detail": Entry("provider", _int("provider", "pk")),
    "provider-decide": Entry("provider", _int("provider", "pk"), POST),
    "programme-list": Entry(None, methods=GET_POST),
    "programme-detail": Entry("programme", _int("programme", "pk")),
    "programme-enrol": Entry("programme", _int("programme", "pk"), POST),
    "activity-list": Entry(None, methods=GET_POST),
    "activity-detail": Entry("session", _int("session", "pk")),
    "activity-attendance": Entry("session", _int("session", "pk"), POST),
    "service-type-list": Entry(None),
    # documents and attachments (core's document service)
    **_paper_entries(),
}


def _url_name(name: str) -> str:
    return name.split("#", 1)[0]


def _declared(name: str, method: str) -> str | tuple[str, ...]:
    """The capability the view behind `name` declares for `method` (web decorator or API class)."""
    match = get_resolver().resolve(reverse(_url_name(name), kwargs=_sample_kwargs(name)))
    cb = match.func
    cls = getattr(cb, "cls", None) or getattr(cb, "view_class", None)
    if cls is None:
        return cb.shouhu_capability  # type: ignore[attr-defined,no-any-return]
    caps = getattr(cls, "shouhu_capabilities", {}) or {}
    action = (getattr(cb, "actions", None) or {}).get(method)
    return caps.get(action) or caps.get(method) or cls.shouhu_capability  # type: ignore[no-any-return]


def _sample_kwargs(name: str) -> dict[str, Any]:
    entry = URLS[name]
    return entry.kwargs(None, User()) if entry.kwargs else {}


def _role(user: User) -> str | None:
    a = RoleAssignment.objects.filter(user=user).first()
    return a.role if a else None


def _holds(role: str | None, capability: str | tuple[str, ...]) -> bool:
    options = (capability,) if isinstance(capability, str) else capability
    return any(holds(role, c) for c in options)


def _call(client: Any, method: str, url: str, api: bool, data: dict[str, Any], fmt: str = "json") -> int:
    if api:
        return getattr(client, method)(url, data, format=fmt).status_code  # type: ignore[no-any-return]
    return getattr(client, method)(url, data).status_code  # type: ignore[no-any-return]


def _ok(method: str, status: int) -> bool:
    if method == "get":
        return status == 200
    return status < 500 and status not in (401, 403, 404, 405)


@pytest.fixture
def worlds(users: dict[str, Any], county: dict[str, Any]) -> tuple[World, World]:
    from shouhu.schooling.tests.worlds import add_schooling

    a = build_world_a(users, county)
    b = build_world_b()
    add_schooling(a, b)
    for u in users.values():
        forget_access(u)
    return a, b


@pytest.mark.parametrize("who", USERS)
def test_matrix(users: dict[str, Any], worlds: tuple[World, World], who: str) -> None:
    world_a, world_b = worlds
    user = User.objects.get(pk=users[who].pk)
    role = _role(user)
    web, api = Client(), APIClient()
    web.force_login(user)
    api.force_authenticate(user)
    problems: list[str] = []
    for name, entry in URLS.items():
        is_api = not name.startswith("web:")
        client = api if is_api else web
        for method in entry.methods:
            capability = entry.gate if entry.gate is not None else _declared(name, method)
            held = _holds(role, capability)
            states: list[tuple[str, World | None]] = (
                [("-", None)] if entry.kind is None else [("A", world_a), ("B", world_b), ("missing", None)]
            )
            for state, w in states:
                kwargs = entry.kwargs(w, user) if entry.kwargs else {}
                data = entry.data(w, user) if entry.data else {}
                status = _call(
                    client, method, reverse(_url_name(name), kwargs=kwargs), is_api, data, entry.fmt
                )
                if not held:
                    good, expected = status == 403, "403"
                elif (
                    state in ("B", "missing")
                    or (state == "A" and who not in IN_REACH_OF_A and entry.kind not in OWN_KINDS)
                    or (entry.needs is not None and not _holds(role, entry.needs))
                ):
                    good, expected = status == 404, "404"
                elif entry.act is not None and not _holds(role, entry.act):
                    good, expected = status == 403, "403"
                else:
                    good, expected = _ok(method, status), "answer"
                if not good:
                    problems.append(
                        f"{method.upper()} {name} [{state}] {capability}: {status}, expected {expected}"
                    )
    assert not problems, f"{who} ({role}):\n" + "\n".join(problems)


def test_anonymous_is_sent_to_login_or_401(client: Client) -> None:
    api = APIClient()
    problems = []
    for name, entry in URLS.items():
        kwargs = entry.kwargs(None, User()) if entry.kwargs else {}
        url = reverse(_url_name(name), kwargs=kwargs)
        for method in entry.methods:
            if name.startswith("web:"):
                r = getattr(client, method)(url)
                if r.status_code != 302 or not r["Location"].startswith("/login/"):
                    problems.append(f"{method} {name}: {r.status_code}")
            else:
                status = getattr(api, method)(url, {}, format="json").status_code
                if status != 401:
                    problems.append(f"{method} {name}: {status}")
    assert not problems, "\n".join(problems)


def test_every_scoped_url_is_in_the_matrix() -> None:
    """A new scoped view must be added to `URLS` (and so to the matrix), with a declared capability."""
    named = set()
    for name in URLS:
        named.add(get_resolver().resolve(reverse(_url_name(name), kwargs=_sample_kwargs(name))).route)
    scoped_routes = {
        route.replace("^", "").replace("$", "")
        for route, cb, _admin in walk(get_resolver().url_patterns)
        if access(cb) == "scoped"
    }
    covered = {r.replace("^", "").replace("$", "") for r in named}
    assert scoped_routes <= covered, sorted(scoped_routes - covered)
    for name, entry in URLS.items():
        for method in entry.methods:
            for capability in (_declared(name, method), entry.gate or (), entry.needs or (), entry.act or ()):
                for c in (capability,) if isinstance(capability, str) else capability:
                    assert c in CAPABILITIES or c.removeprefix("child.") in GROUPS, (name, c)


def test_every_role_is_in_the_matrix(users: dict[str, Any]) -> None:
    """The matrix's logins cover every role code of API.md."""
    covered = {_role(users[who]) for who in USERS}
    assert set(ROLES) <= covered
