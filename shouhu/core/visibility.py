"""Visibility classes of events (R11.1, R11.2; DESIGN principle 1): who may see an event on a timeline.

Every event carries a class, sealed with it (`events.seal`). The service that records an event may name
the class; otherwise its verb decides through `VERB_CLASSES` (longest prefix). An unknown verb is
`restricted`: it is on the audit trail but on nobody's timeline (fails closed).

What each class needs of the reader is in `TIMELINE_RULES`; `registry.selectors.timeline` applies it.
"""

from __future__ import annotations

FILE = "file"  # a change to the child's file: the change rows are filtered by field group
STATUS = "status"  # the left-behind status entered or left
FAMILY = "family"  # carer, guardian, grandparents, agreement, household and plan
CARE = "care"  # contacts, visits, pairings, admonitions, alerts
SCHOOLING = "schooling"  # rosters, absences, dropout cases, pairing and school contact (issue 13)
PROTECTION = "protection"  # a protection case's steps: only with case.view on that very case
REPORT = "report"  # a report opening or joining a case: its actor is the reporter (case.reporter)
REPORTER = "reporter"  # papers about the reporter (the written answer): only with case.reporter on the case
LEDGER = "ledger"  # ledger review of a township
ADMIN = "admin"  # users, roles, logins, configuration: the audit trail only
RESTRICTED = "restricted"

CLASSES = (FILE, STATUS, FAMILY, CARE, SCHOOLING, PROTECTION, REPORT, REPORTER, LEDGER, ADMIN, RESTRICTED)

VERB_CLASSES: dict[str, str] = {
    "child.status_entered": STATUS,
    "child.status_exited": STATUS,
    "child.": FILE,
    "guardian.": FAMILY,
    "grandparents.": FAMILY,
    "agreement.": FAMILY,
    "household.": FAMILY,
    "plan.": FAMILY,
    "care.": CARE,
    "schooling.": SCHOOLING,
    "alert.": CARE,
    "case.opened": REPORT,
    "case.report_joined": REPORT,
    "case.": PROTECTION,
    "referral.": PROTECTION,
    "guardianship.": PROTECTION,
    "protection.": PROTECTION,
    "accountability.": PROTECTION,
    "ledger.": LEDGER,
    "user.": ADMIN,
    "role.": ADMIN,
    "auth.": ADMIN,
    "config.": ADMIN,
    "audit.": ADMIN,
    # Documents and attachments take their record's class (core/documents/owners.py) when recorded;
    # without one they stay off every timeline.
    "document.": RESTRICTED,
    "attachment.": RESTRICTED,
}
_ORDERED = sorted(VERB_CLASSES.items(), key=lambda kv: -len(kv[0]))


def visibility_of_verb(verb: str) -> str:
    for prefix, cls in _ORDERED:
        if verb == prefix or (prefix.endswith(".") and verb.startswith(prefix)):
            return cls
    return RESTRICTED


def visibility_of(event: object) -> str:
    """The class of a stored event (events recorded before classes existed: from the verb)."""
    return getattr(event, "visibility", "") or visibility_of_verb(getattr(event, "verb", ""))


# What a reader needs to see an event of each class on a child's timeline: any one of the capabilities
# on the child, or (`case`) case.view on the event's case, or (`reporter`) case.reporter on it. The case
# of an event is its subject, or for a document or attachment of a protection record `after["case"]`.
# Classes not listed appear on no timeline.
TIMELINE_RULES: dict[str, tuple[str, ...]] = {
    FILE: ("child.view",),
    STATUS: ("child.care", "child.schooling"),
    FAMILY: ("child.family",),
    CARE: ("child.care",),
    SCHOOLING: ("child.schooling",),
    PROTECTION: ("case",),
    REPORT: ("case",),
    REPORTER: ("reporter",),
}
# The actor of a REPORT event is the reporter: shown only with this capability on the case (R5.1).
REPORTER_CAPABILITY = "case.reporter"
