"""The role table moved into `capabilities.py` (roles → capabilities → reach, and field groups): this
module re-exports its names for the code and migrations that import them from here."""

from shouhu.core.capabilities import ROLE_CHOICES, ROLES, RoleSpec

__all__ = ["ROLES", "ROLE_CHOICES", "RoleSpec"]
