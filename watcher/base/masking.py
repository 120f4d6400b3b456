"""Secrets hidden in any text that is logged or shown.

Credentials that may sit in URLs (apprise ``mailtos://user:pass@…``, tokens in paths, ``?pass=``,
``+Authorization=`` headers) are masked in every message, whoever logs it, tracebacks included: a
curator's SMTP password must never reach the journal, which every admin of the host can read.

A secret can also show up without its URL: urllib3 logs the bare request line (``POST
/services/T000/B000/XXXX HTTP/1.1``) at debug. So the notification channels register the secret parts
of their URLs (:func:`register_url_secrets`) and :func:`mask_secrets` hides those strings wherever
they appear, URL or not.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, unquote

MASK = "***"
# Registered secrets shorter than this are not masked on their own (they would mask ordinary words).
MIN_SECRET_LENGTH = 6

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


_registry_lock = threading.Lock()
_registered: set[str] = set()
_registered_re: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Mask ``value`` (and its percent-encoded and decoded forms) in every later :func:`mask_secrets`."""
    global _registered_re
    forms = {value, unquote(value), quote(value, safe="")} - {""}
    forms = {form for form in forms if len(form) >= MIN_SECRET_LENGTH and form != MASK}
    with _registry_lock:
        if forms <= _registered:
            return
        _registered.update(forms)
        # Longest first, so that a secret containing another is hidden whole.
        ordered = sorted(_registered, key=len, reverse=True)
        _registered_re = re.compile("|".join(re.escape(form) for form in ordered))


def register_url_secrets(url: str) -> list[str]:
    """Register what :func:`mask_secrets` would hide in ``url`` (its password, token host and path
    segments, secret query values); text without ``scheme://`` is registered whole, as it may be a
    bare token. Returns the parts registered."""
    parts = secret_parts(url)
    for part in parts:
        register_secret(part)
    return [part for part in parts if len(part) >= MIN_SECRET_LENGTH]


def forget_registered_secrets() -> None:
    """Empty the registry (for tests)."""
    global _registered_re
    with _registry_lock:
        _registered.clear()
        _registered_re = None


def secret_parts(url: str) -> list[str]:
    """The substrings of ``url`` that :func:`mask_secrets` masks."""
    url = url.strip()
    match = _URL.search(url)
    if match is None:
        return [url] if url else []
    scheme, rest = match.group("scheme"), match.group("rest")
    location, _, query = rest.partition("?")
    segments = location.split("/")
    parts: list[str] = []
    if scheme.lower() in _HOST_SCHEMES:
        userinfo, at, host = segments[0].rpartition("@")
        if at:
            parts.append(userinfo.partition(":")[2] or userinfo)
            segments[0] = host
        masked = list(segments)
        _mask_webhook_path(masked)
        parts.extend(seg for seg, out in zip(segments, masked, strict=True) if out != seg)
    else:
        for segment in segments:
            plain = unquote(segment)  # apprise writes `#channel` as %23channel
            if plain and plain[0] not in "#@":
                userinfo, _, host = plain.rpartition("@")
                parts.extend(p for p in (*userinfo.split(":"), host.partition("#")[0]) if p)
    query = query.partition("#")[0]
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        if eq and value and (key.startswith("+") or _SECRET_KEY.search(key)):
            parts.append(value)
    return [part for part in parts if part]


def mask_secrets(text: str) -> str:
    """Hide passwords and tokens: ``mailtos://user:pass@host`` → ``mailtos://***@host`` and so on."""
    registered = _registered_re
    if registered is not None:
        text = registered.sub(MASK, text)
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
