"""The data protection lead's dashboard: sign-in, cases, exports and one-click report links.

Adapters need one thing from here: :func:`make_report_link`, which gives the
signed, expiring, single-use address to put in every private warning.
"""

from __future__ import annotations

from discretion.web.links import make_report_link

__all__ = ["make_report_link"]
