"""Email over SMTP: STARTTLS, optional login, one plain-text message per notification.

smtplib blocks, so each send runs in a thread. The ``Message-ID`` comes from the
notification's key: a retried send that did arrive the first time is recognisable (and
dropped by many mail systems) instead of looking like a second alert.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from checkout_monitor.alerting.channels.base import DeliveryError
from checkout_monitor.alerting.channels.http_post import snippet
from checkout_monitor.alerting.channels.message_text import as_utc, state_word, when_sentence
from checkout_monitor.alerting.notification import Notification, NotificationStatus
from checkout_monitor.config.alerting import EmailChannel
from checkout_monitor.text.durations import format_duration

MESSAGE_ID_DOMAIN = "checkout-monitor"


def message_id(key: str) -> str:
    """``<3f2a…@checkout-monitor>``: the same notification key always gives the same id."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def email_body(notification: Notification, now: datetime) -> str:
    """Plain text that reads well in any mail client and in a forwarded incident thread."""
    resolved = notification.status is NotificationStatus.RESOLVED
    lines = [
        f"{state_word(notification)}: {notification.rule} on {notification.journey} "
        f"({notification.location}), severity {notification.severity}",
        "",
        when_sentence(notification, now),
        "",
        "What was wrong:" if resolved else "What is wrong:",
        notification.summary,
    ]
    if notification.description:
        lines += ["", notification.description]
    lines += [
        "",
        f"Owner:   {notification.owner or 'not named in the config'}",
        f"Runbook: {notification.runbook or 'none'}",
    ]
    if notification.generator_url:
        lines.append(f"Details: {notification.generator_url}")
    lines += ["", f"Alert id: {notification.alert_id}"]
    return "\n".join(lines) + "\n"


def email_message(notification: Notification, now: datetime, config: EmailChannel) -> EmailMessage:
    """The whole message, headers included, as it goes on the wire."""
    message = EmailMessage()
    message["Subject"] = " ".join(notification.title.split())  # never a header break
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Date"] = format_datetime(as_utc(now))
    message["Message-ID"] = message_id(notification.key)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to it
    message.set_content(email_body(notification, now))
    return message


class EmailSender:
    """Sends each notification to the configured recipients through one SMTP server."""

    member = ""  # one receiver: see Channel.member
    keeps_state = False  # every transition is a message of its own

    def __init__(self, name: str, config: EmailChannel, timeout: float) -> None:
        self.name = name
        self._config = config
        self._timeout = timeout
        self._where = f"email channel {name!r}"

    async def send(self, notification: Notification, now: datetime) -> None:
        message = email_message(notification, now, self._config)
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        """One SMTP session; every failure leaves as a ``DeliveryError``."""
        try:
            self._session(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryError(
                f"{self._where}: the server refused every recipient "
                f"(SMTP {', '.join(map(str, codes))})",
                transient=any(not 500 <= code < 600 for code in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            reply = exc.smtp_error
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            shown = snippet(text, self._secrets())
            raise DeliveryError(
                f"{self._where}: SMTP {exc.smtp_code}" + (f": {shown}" if shown else ""),
                # 5xx: the server will say the same again; 4xx (and garbled): try later
                transient=not 500 <= exc.smtp_code < 600,
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryError(
                f"{self._where}: the server does not offer "
                f"{'STARTTLS or ' if self._config.starttls else ''}AUTH as configured",
                transient=False,
            ) from None
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            what = "no answer within " + format_duration(self._timeout)
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                what = "the server closed the connection"
            raise DeliveryError(f"{self._where}: {what}", transient=True) from None
        except ssl.SSLError as exc:
            # an untrusted or expired certificate is retried: an operator can fix it in time
            raise DeliveryError(
                f"{self._where}: TLS failed ({type(exc).__name__}: {exc.reason or 'no reason'})",
                transient=True,
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"{self._where}: could not reach the server ({type(exc).__name__})",
                transient=True,
            ) from None

    def _session(self, message: EmailMessage) -> None:
        config = self._config
        smtp = smtplib.SMTP(config.host, config.port, timeout=self._timeout)
        try:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=config.ca_file))
            if config.username is not None and config.password is not None:
                smtp.login(config.username, config.password)
            smtp.send_message(message)
        except BaseException:
            smtp.close()  # no QUIT: it could wait out another timeout, or hide the cause
            raise
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            # the message was accepted: a failed goodbye must not make it look undelivered
            smtp.close()

    def _secrets(self) -> list[str]:
        return [self._config.password] if self._config.password else []
