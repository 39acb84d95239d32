"""What the engine remembers about recent messages in a thread: derived features only.

Issue 3 fills this in (categories, hashes, counts per author and thread, with a
bound and expiry); the store interface lets Redis replace the in-process one.
"""

from __future__ import annotations

from typing import Any


def memory_for(settings: Any) -> Any:
    """The thread memory the engine should use for a run (None: remember nothing)."""
    return None
