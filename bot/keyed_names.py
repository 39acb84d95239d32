"""Names for keys kept in a shared store (Redis): a prefix and a keyed hash, never the key.

Conversation ids, account names and client addresses say who someone is; the store
only ever sees an HMAC of them, under a key derived from the install's secret for
one purpose, so every replica names a key the same way and nobody without the
secret can test a guess against the names.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable


def keyed_names(secret: bytes, purpose: bytes, prefix: str, chars: int) -> Callable[[str], str]:
    """A function giving ``prefix`` + the first ``chars`` hex digits of the key's keyed hash."""
    names_key = hmac.new(secret, purpose, hashlib.sha256).digest()

    def name(key: str) -> str:
        return prefix + hmac.new(names_key, key.encode(), hashlib.sha256).hexdigest()[:chars]

    return name
