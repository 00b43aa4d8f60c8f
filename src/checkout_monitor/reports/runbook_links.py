"""A journey's runbook as HTML: one rule for the HTML report and the status page.

Only web links (``http://``, ``https://``, any case) become links; a ``javascript:`` or
``file:`` runbook stays plain text. A ``user:password@`` is for the wiki, never for whoever
reads the page: it goes from links and from text alike.
"""

from __future__ import annotations

import re
from html import escape

_LINK_SCHEMES = ("http://", "https://")
# C0 controls other than tab and newline, and DEL, as the HTML report drops them
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def without_userinfo(url: str) -> str:
    """``url`` without the ``user:password@`` of its authority (any scheme with ``//``)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    ends = [index for index in (rest.find(mark) for mark in "/?#") if index >= 0]
    end = min(ends, default=len(rest))
    authority = rest[:end]
    if "@" not in authority:
        return url
    return f"{scheme}{separator}{authority.rpartition('@')[2]}{rest[end:]}"


def runbook_html(runbook: str) -> str:
    """The runbook escaped, as a link when it is a web address."""
    shown = without_userinfo(_CONTROL.sub("", runbook))
    text = escape(shown, quote=True)
    if shown.lower().startswith(_LINK_SCHEMES):
        return f'<a href="{text}">{text}</a>'
    return text
