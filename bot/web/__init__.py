"""The data protection lead's dashboard: sign-in, cases, exports and one-click report links.

Adapters need one thing from here: :func:`make_report_link`, which gives the
signed, expiring, single-use address to put in every private warning.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_report_link"]


def __getattr__(name: str) -> Any:
    # Loaded on first use, so the command line can import discretion.web.admin cheaply.
    if name == "make_report_link":
        from discretion.web.links import make_report_link

        return make_report_link
    raise AttributeError(name)
