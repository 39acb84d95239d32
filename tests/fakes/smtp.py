"""A mail server on 127.0.0.1 that insists on STARTTLS, with a certificate made on the spot.

``FakeSmtp(folder)`` writes a self-signed certificate for 127.0.0.1 into ``folder``
(``cert_path`` is what the client should trust), starts aiosmtpd on a free port,
and keeps each accepted email in ``messages`` with whether it arrived encrypted.
``tls=False`` makes a server that offers no STARTTLS at all, to prove we refuse it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def free_port() -> int:
    """A TCP port nothing is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """Write a certificate and key for 127.0.0.1/localhost; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    """One accepted email and how it came."""

    message: EmailMessage
    sender: str
    recipients: list[str]
    encrypted: bool
    login: str | None


class _Handler:
    def __init__(self, owner: FakeSmtp):
        self.owner = owner

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.auth_data else None
        self.owner.messages.append(
            Received(
                message=message,
                sender=envelope.mail_from,
                recipients=list(envelope.rcpt_tos),
                encrypted=session.ssl is not None,
                login=login,
            )
        )
        return "250 Message accepted"


class FakeSmtp:
    """aiosmtpd on a free port of 127.0.0.1; use as a context manager."""

    def __init__(
        self,
        folder: Path,
        *,
        tls: bool = True,
        username: str | None = None,
        password: str | None = None,
    ):
        self.cert_path, self.key_path = self_signed_cert(folder)
        self.port = free_port()
        self.messages: list[Received] = []
        self.username, self.password = username, password
        kwargs: dict[str, Any] = {}
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert_path, self.key_path)
            kwargs.update(tls_context=context, require_starttls=True)
        if username is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def __enter__(self) -> FakeSmtp:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()
