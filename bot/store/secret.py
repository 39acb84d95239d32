"""The per-install secret key: from the environment, else made once and kept in ./var/.

``message_hash()`` uses it so the same message gives the same hash on this install
(repeats can be matched) while nobody without the key can test a guess against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "DISCRETION_SECRET_KEY"
DEFAULT_KEY_FILE = Path("var") / "message-hash.key"
# The site secret also signs report links (the dashboard); hashing uses a key derived from
# it for this one purpose, so neither use can be turned against the other.
PURPOSE = b"discretion message hash v1"
MIN_KEY_BYTES = 32


def load_install_key(path: str | os.PathLike[str] | None = None) -> bytes:
    """The install's message-hash key (bytes): derived from ``$DISCRETION_SECRET_KEY``, else a file.

    The key file is created with 32 random bytes, readable by its owner only, the
    first time. A key shorter than 32 bytes is refused rather than silently used.
    """
    given = os.environ.get(KEY_ENV)
    if given:
        key = given.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"{KEY_ENV} must be at least {MIN_KEY_BYTES} characters long")
        return hmac.new(key, PURPOSE, hashlib.sha256).digest()
    file = Path(path) if path is not None else DEFAULT_KEY_FILE
    if file.exists():
        key = base64.b64decode(file.read_bytes().strip())
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"{file}: the key is too short; delete the file to make a new one")
        return key
    file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(MIN_KEY_BYTES)
    # O_EXCL: if another process made the file first, use theirs.
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_install_key(file)
    with os.fdopen(fd, "wb") as out:
        out.write(base64.b64encode(key) + b"\n")
    return key
