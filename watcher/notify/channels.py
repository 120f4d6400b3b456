"""Notification channels: every apprise URL built once at start, checked, masked and filtered.

Each URL of a channel becomes its own *target* with its own ``apprise.Apprise`` object, so a failing
or rate-limited service never holds up another one, and the outbox can record each one's result.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import apprise
from apprise.plugins.email import NotifyEmail

from watcher.base.masking import mask_secrets, register_url_secrets
from watcher.base.values import BodyFormat
from watcher.config import Config, NotifyChannel
from watcher.notify.diagnose import NotifyLines, email_problem, explain_unloadable, unknown_scheme, where
from watcher.notify.schedule import DigestTime

log = logging.getLogger("watcher.notify")

# Practical body limits where apprise's own body_maxlen is far above what the service accepts
# (Slack: 35000 in apprise, about 4000 in practice and 3000 per block). The Markdown we measure grows a
# little when apprise converts it (entities, <url|label> links), hence the margin.
_SERVICE_LIMITS = {"slack": 3500, "discord": 1900, "tgram": 3800, "mattermost": 3800}
_MARGIN = 0.9
# E-mail takes long bodies, but Gmail clips a message above 102 KB behind a "view entire message" link.
EMAIL_LIMIT = 100_000


def mask_url(url: str) -> str:
    """An apprise URL with its credentials hidden, for logs, ``watcher check`` and the review page.

    :func:`watcher.base.masking.mask_secrets` knows apprise's forms (userinfo, token hosts and paths, secret
    query values, ``+Header=`` values). Text without ``scheme://`` is not recognisably a URL, so none
    of it is shown: it may be a bare token pasted in the wrong place.
    """
    return mask_secrets(url) if "://" in url else "***"


def _privacy_url(service: Any) -> Any:
    return service.url(privacy=True)


# Arguments apprise adds to every service's own URL (delivery and logging settings): left out where a
# URL is shown to the person who wrote it, so it reads like what they wrote.
_GENERIC_ARGS = frozenset(
    {"overflow", "retry", "wait", "optional", "cto", "rto", "emojis", "store", "tz", "verify"}
)


def _readable(label: str) -> str:
    """A masked apprise URL of a service without apprise's generic arguments (for display only)."""
    parts = urlsplit(label)
    if not parts.query:
        return label
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in _GENERIC_ARGS]
    query = "&".join(f"{k}={v}" for k, v in kept)  # masked already: shown, never parsed again
    return urlunsplit(parts._replace(query=query))


def _names(value: object) -> set[str]:
    """A plugin's protocol names (a string, or a tuple of them)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, tuple | list):
        return {str(v) for v in value}
    return set()


@dataclass(frozen=True)
class Target:
    """One apprise URL of a channel, with how to write for it."""

    key: str
    label: str
    apprise: Any  # apprise.Apprise holding exactly this one service
    service: Any  # the apprise plugin object
    body_format: BodyFormat
    is_email: bool
    limit: int | None
    rate_seconds: float
    # The URL as the config writes it, masked (``watcher notify test`` shows it); else ``label``.
    written: str = ""

    @property
    def shown(self) -> str:
        return self.written or self.label

    @classmethod
    def from_service(
        cls, channel: str, index: int, service: Any, asset: Any, written: str | None = None
    ) -> Target:
        label = mask_url(str(_privacy_url(service)))
        key = hashlib.sha256(f"{channel}\x1f{index}\x1f{label}".encode()).hexdigest()[:20]
        is_email = isinstance(service, NotifyEmail)
        resolved = service.resolve_format(None)
        body_format: BodyFormat = (
            "html"
            if is_email or resolved == apprise.NotifyFormat.HTML
            else "markdown"
            if resolved == apprise.NotifyFormat.MARKDOWN
            else "text"
        )
        limit: int | None = EMAIL_LIMIT if is_email else None
        if not is_email:
            maxlen = int(getattr(service, "body_maxlen", 0) or 0)
            protocols = _names(service.protocol) | _names(service.secure_protocol)
            known = min((_SERVICE_LIMITS[p] for p in protocols if p in _SERVICE_LIMITS), default=None)
            candidates = [int(maxlen * _MARGIN)] if maxlen > 0 else []
            if known:
                candidates.append(known)
            limit = min(candidates) if candidates else None
        holder = apprise.Apprise(asset=asset)
        holder.add(service)
        rate = float(getattr(service, "request_rate_per_sec", 0.0) or 0.0)
        shown = mask_url(written) if written else _readable(label)
        return cls(key, label, holder, service, body_format, is_email, limit, rate, shown)


@dataclass(frozen=True)
class Channel:
    config: NotifyChannel
    targets: tuple[Target, ...]
    digest_time: DigestTime
    complete: bool = True  # every URL loaded (so a row for an unknown target is really orphaned)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def wants_alerts(self) -> bool:
        return self.config.mode in ("immediate", "both")

    @property
    def wants_digest(self) -> bool:
        return self.config.mode in ("digest", "both")

    def target(self, key: str) -> Target | None:
        return next((t for t in self.targets if t.key == key), None)


def make_asset() -> Any:
    """One apprise asset for all channels: our name, and no files written (systemd runs us read-only)."""
    return apprise.AppriseAsset(
        app_id="Commons Watcher",
        app_desc="Commons Watcher",
        app_url="https://commons.wikimedia.org/",
        storage_mode=apprise.PersistentStoreMode.MEMORY,
    )


def _log_capture() -> Any:
    """apprise's own capture of its log lines (untyped in apprise)."""
    capture: Any = apprise.LogCapture
    return capture(level=logging.WARNING, fmt="%(message)s")


# Words of a urls_from file that are its structure, not its content (YAML keys and the like).
_FILE_WORDS = frozenset({"urls", "url", "tag", "tags", "include", "version", "asset", "true", "false"})
_FILE_TOKEN = re.compile(r"[^\s'\",=\[\]{}#]+")


def _file_tokens(text: str) -> list[str]:
    """The words of a urls_from file that apprise may quote back: any of them may be a bare token.

    Longest first; URLs, YAML keys (``urls:``), list dashes and short words are left to other rules.
    """
    tokens = set()
    for token in _FILE_TOKEN.findall(text):
        token = token.rstrip(":")
        if len(token) >= 4 and "://" not in token and token.casefold() not in _FILE_WORDS:
            tokens.add(token)
    return sorted(tokens, key=len, reverse=True)


def _captured(text: str, raw: Sequence[str], tokens: Sequence[str] = ()) -> list[str]:
    """apprise's warnings, with any URL it quotes masked, and any of ``tokens`` (a urls_from file's
    words) hidden: apprise quotes a line it cannot read ("Invalid URL <token>"), a bare token too."""
    lines = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        for url in raw:
            if url and url in line:
                line = line.replace(url, mask_url(url))
        for token in tokens:
            if token in line:
                line = re.sub(rf"(?<![\w-]){re.escape(token)}(?![\w-])", "***", line)
        lines.append(mask_secrets(line))
    return lines


def _load_services(
    channel: NotifyChannel, asset: Any, index: int, lines: NotifyLines
) -> tuple[list[tuple[Any, str | None]], list[str]]:
    """The channel's apprise services (each with its URL as written, None from urls_from), and its
    problems, each naming the entry and line it is about."""
    services: list[tuple[Any, str | None]] = []
    problems: list[str] = []
    for url in channel.urls:
        register_url_secrets(url)  # hidden in every log line from now on, request lines included
        at = where(index, channel.name, lines.url(index, url))
        if "://" not in url:
            problems.append(f"{at}: {mask_url(url)} is not an apprise URL (scheme://…)")
            continue
        holder = apprise.Apprise(asset=asset)
        with _log_capture() as out:
            added = holder.add(url)
        warnings = _captured(out.getvalue(), [url])
        if not added or len(holder) == 0:
            problems.append(f"{at}: URL {mask_url(url)}: {explain_unloadable(url, warnings)}")
            continue
        problems.extend(f"{at}: URL {mask_url(url)}: {w}" for w in warnings)
        for service in holder:
            email = email_problem(service, url)
            if email is not None:
                problems.append(f"{at}: URL {mask_url(url)} {email}")
        services.extend((service, url) for service in holder)
    if channel.urls_from is not None:
        path = channel.urls_from
        at = where(index, channel.name, lines.urls_from(index))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{at}: cannot read urls_from {path}: {exc.__class__.__name__}: {exc}")
            return services, problems
        fmt = "yaml" if path.suffix.lower() in (".yml", ".yaml") else None
        config = apprise.AppriseConfig(asset=asset)
        with _log_capture() as out:
            config.add_config(text, format=fmt)
            loaded = list(config.services())
        raw_urls = re.findall(r"[a-z][a-z0-9+.-]*://[^\s'\"]+", text, re.I)
        for raw_url in raw_urls:
            register_url_secrets(raw_url)
        # A misspelt scheme: the entry's line in the file and the scheme meant, not apprise's bare
        # "Unparseable URL …" (left out below for exactly those URLs).
        warnings = _captured(out.getvalue(), raw_urls, _file_tokens(text))
        for raw_url in raw_urls:
            unknown = unknown_scheme(raw_url)
            said = f"Unparseable URL {mask_url(raw_url)}"
            if unknown is None or not any(w.startswith(said) for w in warnings):
                continue  # apprise took it (a native https:// webhook URL, say)
            warnings = [w for w in warnings if not w.startswith(said)]
            line = next((n for n, row in enumerate(text.splitlines(), 1) if raw_url in row), None)
            place = f", line {line}" if line else ""
            problems.append(f"{at}: urls_from {path}{place}: URL {mask_url(raw_url)}: {unknown}")
        problems.extend(f"{at}: urls_from {path}: {warning}" for warning in warnings)
        if not loaded:
            problems.append(f"{at}: urls_from {path} holds no usable apprise URL")
        for service in loaded:
            email = email_problem(service, None)
            if email is not None:
                label = mask_url(str(_privacy_url(service)))
                problems.append(f"{at}: urls_from {path}: URL {label} {email}")
        services.extend((service, None) for service in loaded)
    for service, _ in services:
        with contextlib.suppress(Exception):  # apprise's url() is plugin code: never let it stop us
            register_url_secrets(str(service.url(privacy=False)))
        if isinstance(service, NotifyEmail) and not service.targets:
            label = mask_url(str(_privacy_url(service)))
            problems.append(
                f"{where(index, channel.name, lines.entry(index))}: {label} names no recipient (to=…)"
            )
    return services, problems


def build_channels(config: Config) -> tuple[list[Channel], list[str]]:
    """Build every channel's apprise objects; returns the channels and plain, masked problems.

    Each problem starts with the entry it is about and, where the config file can be read, its line
    (``line 14: notify[1] 'registrar': …``), as ``watcher check`` shows config problems.
    """
    asset = make_asset()
    lines = NotifyLines(config.path)
    channels: list[Channel] = []
    problems: list[str] = []
    for index, channel_config in enumerate(config.notify):
        services, found = _load_services(channel_config, asset, index, lines)
        problems.extend(found)
        targets = tuple(
            Target.from_service(channel_config.name, i, service, asset, written)
            for i, (service, written) in enumerate(services)
        )
        if not targets and not found:
            at = where(index, channel_config.name, lines.entry(index))
            problems.append(f"{at}: no apprise URL to send to")
        digest_time = DigestTime.parse(channel_config.digest_at, channel_config.timezone)
        channels.append(Channel(channel_config, targets, digest_time, complete=not found))
    return channels, problems


def check_channels(config: Config) -> list[str]:
    """Problems that would make a channel fail later, for ``watcher check``/``run`` to report at start."""
    return build_channels(config)[1]
