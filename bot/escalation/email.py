"""Email alerts over SMTP, encrypted always: STARTTLS (required, never optional) or TLS."""

from __future__ import annotations

import os
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from discretion.config import EmailEscalation
from discretion.escalation.alert import Alert


class EmailNotifier:
    """Sends each alert as one email to the configured recipients."""

    name = "email"

    def __init__(self, settings: EmailEscalation, *, password: str | None = None):
        if not settings.sender:
            raise ValueError("escalation.email.sender: give the address alerts are sent from")
        self.settings = settings
        self.password = password if password is not None else os.environ.get(settings.password_env)
        if settings.username and not self.password:
            raise ValueError(
                f"escalation.email.username is set but ${settings.password_env} holds no password"
            )
        self.tls_context = ssl.create_default_context()
        if settings.ca_file:
            # Trusted as well as the system's authorities: a trust's own relay, or a test server.
            self.tls_context.load_verify_locations(cafile=settings.ca_file)

    def message(self, alert: Alert) -> EmailMessage:
        """The email for an alert."""
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(self.settings.recipients)
        msg["Subject"] = alert.subject
        msg["Date"] = formatdate(alert.sent_at.timestamp(), usegmt=True)
        msg["Message-ID"] = make_msgid(idstring=alert.delivery_id.replace(":", "."))
        msg["X-Discretion-Delivery"] = alert.delivery_id
        msg.set_content(alert.text())
        return msg

    async def send(self, alert: Alert) -> None:
        """Send one alert; raises on any failure so the outbox retries it."""
        s = self.settings
        await aiosmtplib.send(
            self.message(alert),
            hostname=s.host,
            port=s.port,
            username=s.username or None,
            password=self.password if s.username else None,
            use_tls=s.security == "tls",
            # True means required: if the server does not offer STARTTLS, nothing is sent.
            start_tls=s.security == "starttls",
            tls_context=self.tls_context,
            timeout=s.timeout_seconds,
        )
