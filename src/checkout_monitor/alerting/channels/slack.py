"""Slack incoming webhooks: a message someone new to the shop can act on.

It says what state the alert is in, what broke and where, what to do (the description), who
owns it and where the runbook is; a resolution says how long the problem lasted. The
webhook URL is the secret: it never appears in an error message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from checkout_monitor.alerting.channels.http_post import (
    JsonPost,
    JsonPostSender,
    url_secrets,
)
from checkout_monitor.alerting.channels.message_text import state_word, when_sentence
from checkout_monitor.alerting.notification import Notification, NotificationStatus
from checkout_monitor.config.alerting import SlackChannel

_SECTION_CHARS = 3000  # Slack rejects a section whose text is longer
_EMOJI = {
    "FIRING": ":red_circle:",
    "STILL FIRING": ":red_circle:",
    "RESOLVED": ":white_check_mark:",
}


def escape(text: str) -> str:
    """Slack mrkdwn treats ``&``, ``<`` and ``>`` as markup; shop text must not."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """``<url|label>``, with the characters that would end the link early encoded."""
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|{escape(label)}>"


def _section(text: str) -> dict[str, Any]:
    if len(text) > _SECTION_CHARS:
        text = text[: _SECTION_CHARS - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack_message(notification: Notification, now: datetime) -> dict[str, Any]:
    """The webhook body: plain ``text`` for notifications and old clients, ``blocks`` to read."""
    state = state_word(notification)
    emoji = _EMOJI[state]
    resolved = notification.status is NotificationStatus.RESOLVED
    where = f"{notification.journey} ({notification.location})"
    title = f"{emoji} *{state}: {escape(notification.rule)}* on {escape(where)}"
    facts = (
        f"*Journey:* {escape(notification.journey)}   *Location:* "
        f"{escape(notification.location)}   *Severity:* {escape(notification.severity)}"
    )
    if resolved:
        what = f"*It works again.* {when_sentence(notification, now)}\n*What was wrong:* "
    else:
        what = f"{when_sentence(notification, now)}\n*What is wrong:* "
    what += escape(notification.summary)
    if notification.description:
        what += f"\n{escape(notification.description)}"
    owner = escape(notification.owner) if notification.owner else "not named in the config"
    runbook = link(notification.runbook, "open the runbook") if notification.runbook else "none"
    help_lines = f"*Owner:* {owner}\n*Runbook:* {runbook}"
    if notification.generator_url:
        help_lines += f"\n*Details:* {link(notification.generator_url, 'in checkout-monitor')}"
    text = f"{emoji} {state}: {notification.rule} on {where}: {notification.summary}"
    return {
        "text": escape(text),
        "blocks": [_section(f"{title}\n{facts}"), _section(what), _section(help_lines)],
    }


class SlackSender(JsonPostSender[SlackChannel]):
    """Posts each notification to one Slack incoming webhook."""

    kind = "slack"

    def request(self, notification: Notification, now: datetime) -> JsonPost:
        return JsonPost(
            self.config.webhook_url,
            slack_message(notification, now),
            secrets=url_secrets(self.config.webhook_url),
        )
