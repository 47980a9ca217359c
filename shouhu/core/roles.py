"""The roles of REQUIREMENTS "Who uses it", with the role codes of API.md, and what each may do.

This table is access control, not county policy: it lives in code so that a mistake in the database
cannot widen anyone's access. `jurisdiction.py` is the one place that turns it into querysets.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class RoleSpec:
    code: str
    label: object  # lazy translation
    # Which children the role sees: "region" (children whose village lies in the scope's region subtree),
    # "school" (children whose school is the scope's organisation), or None (no child files at all).
    child_scope: str | None
    edits_children: bool = False
    # R11.3: full ID numbers and phones only for roles whose duty needs them; others see them masked.
    sees_identifiers: bool = False
    # Separated admin roles (R11.4): the system administrator configures, but reads no child file.
    administers: bool = False
    reads_audit: bool = False


ROLES: dict[str, RoleSpec] = {
    spec.code: spec
    for spec in [
        RoleSpec("system_admin", _("系统管理员"), child_scope=None, administers=True),
        RoleSpec(
            "county_admin",
            _("县民政局（领导小组办公室）"),
            "region",
            edits_children=True,
            sees_identifiers=True,
        ),
        RoleSpec(
            "township_supervisor", _("乡镇儿童督导员"), "region", edits_children=True, sees_identifiers=True
        ),
        RoleSpec(
            "village_worker", _("村（居）儿童主任"), "region", edits_children=True, sees_identifiers=True
        ),
        RoleSpec("school_staff", _("学校/幼儿园"), "school"),
        RoleSpec("education_bureau", _("县教委"), "region"),
        RoleSpec("police", _("公安派出所"), "region", sees_identifiers=True),
        RoleSpec("medical", _("医疗机构"), None),
        RoleSpec("service_provider", _("社会服务机构"), None),
        RoleSpec("leadership_viewer", _("领导小组成员单位"), None),
        RoleSpec("auditor", _("审计员"), None, reads_audit=True),
    ]
}

ROLE_CHOICES = [(code, spec.label) for code, spec in ROLES.items()]
