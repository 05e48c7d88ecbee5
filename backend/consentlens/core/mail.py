"""Sending e-mail: a real SMTP client, or .eml files in var/outbox when no SMTP host is set."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from consentlens.core.config import Settings, get_settings
from consentlens.core.files import write_private

log = logging.getLogger("consentlens.mail")


class MailError(RuntimeError):
    """The message could not be handed to the mail server.

    `permanent`: the server refused it for good (a 5xx answer, every recipient refused), so
    trying again would only repeat the refusal.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    reply_to: str = ""
    # Shown as the sender beside the configured address (the club's name); empty: as configured.
    sender_name: str = ""


class Mailer(Protocol):
    def send(self, mail: Mail) -> object: ...


def sender_of(*, mail: Mail, configured: str) -> str:
    """The From header: the configured address, under the mail's sender name when it has one."""
    if not mail.sender_name:
        return configured
    _, address = parseaddr(configured)
    # One line, bounded: a club's name is typed by its staff.
    name = " ".join(mail.sender_name.split())[:100]
    return formataddr((name, address or configured))


def build_message(*, mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender_of(mail=mail, configured=sender)
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="consentlens")
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message.set_content(mail.text)
    return message


class SmtpMailer:
    """Delivers through an SMTP server (STARTTLS or implicit TLS, optional login)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, mail: Mail) -> None:
        s = self.settings
        message = build_message(mail=mail, sender=s.mail_from)
        try:
            if s.smtp_ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host,
                    s.smtp_port,
                    timeout=s.smtp_timeout_seconds,
                    context=ssl.create_default_context(),
                )
            else:
                client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
            with client:
                if s.smtp_starttls and not s.smtp_ssl:
                    client.ehlo()
                    if client.has_extn("starttls"):
                        client.starttls(context=ssl.create_default_context())
                        client.ehlo()
                    elif s.is_production:
                        raise MailError("the SMTP server does not offer STARTTLS")
                if s.smtp_username:
                    client.login(s.smtp_username, s.smtp_password)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(
                f"could not send e-mail to {mail.to}: {error}", permanent=_is_permanent(error)
            ) from error


class OutboxMailer:
    """Writes each message as an .eml file, so the app works without a mail server."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    def send(self, mail: Mail) -> Path:
        path = self.directory / f"{uuid.uuid4().hex}.eml"
        # The message holds a personal sign-in link: readable by the owner only.
        write_private(path=path, data=bytes(build_message(mail=mail, sender=self.sender)))
        links = re.findall(r"https?://\S+", mail.text)
        log.warning(
            "no SMTP host configured: e-mail to %s written to %s%s",
            mail.to,
            path,
            f" (link: {links[0]})" if links else "",
        )
        return path


def get_mailer() -> Mailer:
    settings = get_settings()
    if settings.smtp_host:
        return SmtpMailer(settings)
    return OutboxMailer(settings.outbox_dir, settings.mail_from)
