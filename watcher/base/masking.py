"""Secrets hidden in any text that is logged or shown.

Credentials that may sit in URLs (apprise ``mailtos://user:pass@…``, tokens in paths, ``?pass=``,
``+Authorization=`` headers) are masked in every message, whoever logs it, tracebacks included: a
curator's SMTP password must never reach the journal, which every admin of the host can read.
"""

from __future__ import annotations

import re

MASK = "***"

# A URL as it appears in a log line; trailing punctuation of the sentence is not part of it.
_URL = re.compile(r"\b(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>[^\s\"'<>`]+)", re.I)
_TRAILING = re.compile(r"[.,;:!?)\]}]+$")

# Schemes addressed by host, whose path is not a secret (only userinfo and query are masked). Every
# other scheme (slack://, discord://, tgram://, pover://, gotify://, ntfy://, … — apprise has ~100)
# carries tokens in its host or path, so all of it is masked except `#channel` and `@user` targets.
_HOST_SCHEMES = frozenset(
    {"http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "mailto", "mailtos", "ws", "wss"}
)
# Path segments after one of these (…/services/T/B/X, …/api/webhooks/ID/TOKEN) are webhook secrets,
# as are Telegram Bot API paths (/bot123456:ABC…/sendMessage).
_WEBHOOK_MARKERS = frozenset({"services", "webhooks", "webhook", "hooks", "hook"})
_TELEGRAM_BOT = re.compile(r"^bot\d+:.+$")
# Query keys whose values are secrets; `+Name=` keys are HTTP headers apprise adds (Authorization…).
_SECRET_KEY = re.compile(r"pass|token|key|secret|auth|cred|sig|session|cookie", re.I)
# The same outside URLs: `Authorization: Bearer x`, `password=x`.
_HEADER = re.compile(
    r"\b(?P<name>(?:proxy-)?authorization|x-api-key|api-key|cookie)(?P<sep>\s*[:=]\s*)"
    r"(?:(?P<kind>bearer|basic|token|digest)\s+)?(?P<value>[^\s,;&]+)",
    re.I,
)
_ASSIGNMENT = re.compile(
    r"\b(?P<key>password|passwd|secret|api_?key|access_token|token)=(?P<value>[^\s&,;]+)", re.I
)


def mask_secrets(text: str) -> str:
    """Hide passwords and tokens: ``mailtos://user:pass@host`` → ``mailtos://***@host`` and so on."""
    text = _URL.sub(_mask_url, text)
    text = _HEADER.sub(_mask_header, text)
    return _ASSIGNMENT.sub(_mask_assignment, text)


def _kept_tail(value: str) -> str:
    """Sentence punctuation after a secret (``password=x.``) is not part of it."""
    trailing = _TRAILING.search(value)
    return trailing.group(0) if trailing and trailing.group(0) != value else ""


def _mask_header(match: re.Match[str]) -> str:
    kind = f"{match.group('kind')} " if match.group("kind") else ""
    return f"{match.group('name')}{match.group('sep')}{kind}{MASK}{_kept_tail(match.group('value'))}"


def _mask_assignment(match: re.Match[str]) -> str:
    return f"{match.group('key')}={MASK}{_kept_tail(match.group('value'))}"


def _mask_url(match: re.Match[str]) -> str:
    scheme, rest = match.group("scheme"), match.group("rest")
    trailing = _TRAILING.search(rest)
    tail = trailing.group(0) if trailing else ""
    if tail:
        rest = rest[: -len(tail)]
    location, sep, query = rest.partition("?")
    segments = location.split("/")
    if scheme.lower() in _HOST_SCHEMES:
        authority = segments[0]
        if "@" in authority:
            segments[0] = MASK + "@" + authority.rpartition("@")[2]
        _mask_webhook_path(segments)
    else:
        segments = [_mask_token_segment(segment) for segment in segments]
    masked = "/".join(segments)
    if sep:
        masked += "?" + _mask_query(query)
    return f"{scheme}://{masked}{tail}"


def _mask_webhook_path(segments: list[str]) -> None:
    secret = False
    for index, segment in enumerate(segments[1:], start=1):
        if (secret and segment) or _TELEGRAM_BOT.match(segment):
            segments[index] = MASK
        if segment.lower() in _WEBHOOK_MARKERS:
            secret = True


def _mask_token_segment(segment: str) -> str:
    """Mask a host or path part of a token URL, keeping `#channel` and `@user` targets readable."""
    if not segment or segment[0] in "#@":
        return segment
    channel = segment.find("#")
    return MASK + (segment[channel:] if channel > 0 else "")


def _mask_query(query: str) -> str:
    query, hash_mark, fragment = query.partition("#")
    pairs = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and value and (key.startswith("+") or _SECRET_KEY.search(key)):
            pair = f"{key}={MASK}"
        pairs.append(pair)
    return "&".join(pairs) + hash_mark + fragment
