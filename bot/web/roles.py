"""Dashboard roles: who may read every case, who may change one, who sees only their own."""

from __future__ import annotations

# From most to least able. "staff" see only the reports they made themselves;
# "none" (an account signed in through the directory but not given a role) sees nothing.
DPO = "dpo"
ADMIN = "admin"
VIEWER = "viewer"
STAFF = "staff"
NO_ROLE = "none"
ROLES: tuple[str, ...] = (DPO, ADMIN, VIEWER, STAFF, NO_ROLE)
ROLE_NAMES = {
    DPO: "Data protection lead",
    ADMIN: "Administrator",
    VIEWER: "Viewer (read only)",
    STAFF: "Staff (own reports only)",
    NO_ROLE: "No role",
}
# Who may change a case, and who may read every case.
CAN_EDIT: frozenset[str] = frozenset({DPO, ADMIN})
CAN_READ_ALL: frozenset[str] = frozenset({DPO, ADMIN, VIEWER})
