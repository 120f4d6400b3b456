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

import apprise
from apprise.plugins.email import NotifyEmail

from watcher.base.masking import mask_secrets, register_url_secrets
from watcher.base.values import BodyFormat
from watcher.config import Config, NotifyChannel
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

    @classmethod
    def from_service(cls, channel: str, index: int, service: Any, asset: Any) -> Target:
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
        return cls(key, label, holder, service, body_format, is_email, limit, rate)


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


def _load_services(channel: NotifyChannel, asset: Any) -> tuple[list[Any], list[str]]:
    where = f"notify {channel.name!r}"
    services: list[Any] = []
    problems: list[str] = []
    for url in channel.urls:
        register_url_secrets(url)  # hidden in every log line from now on, request lines included
        if "://" not in url:
            problems.append(f"{where}: {mask_url(url)} is not an apprise URL (scheme://…)")
            continue
        holder = apprise.Apprise(asset=asset)
        with _log_capture() as out:
            added = holder.add(url)
        warnings = _captured(out.getvalue(), [url])
        if not added or len(holder) == 0:
            reason = "; ".join(warnings) or "apprise does not understand it"
            problems.append(f"{where}: cannot use URL {mask_url(url)}: {reason}")
            continue
        problems.extend(f"{where}: URL {mask_url(url)}: {w}" for w in warnings)
        services.extend(holder)
    if channel.urls_from is not None:
        path = channel.urls_from
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{where}: cannot read urls_from {path}: {exc.__class__.__name__}: {exc}")
            return services, problems
        fmt = "yaml" if path.suffix.lower() in (".yml", ".yaml") else None
        config = apprise.AppriseConfig(asset=asset)
        with _log_capture() as out:
            config.add_config(text, format=fmt)
            loaded = list(config.services())
        raw_urls = re.findall(r"[a-z][a-z0-9+.-]*://[^\s'\"]+", text, re.I)
        for raw_url in raw_urls:
            register_url_secrets(raw_url)
        for warning in _captured(out.getvalue(), raw_urls, _file_tokens(text)):
            problems.append(f"{where}: urls_from {path}: {warning}")
        if not loaded:
            problems.append(f"{where}: urls_from {path} holds no usable apprise URL")
        services.extend(loaded)
    for service in services:
        with contextlib.suppress(Exception):  # apprise's url() is plugin code: never let it stop us
            register_url_secrets(str(service.url(privacy=False)))
        if isinstance(service, NotifyEmail) and not service.targets:
            label = mask_url(str(_privacy_url(service)))
            problems.append(f"{where}: {label} names no recipient (to=…)")
    return services, problems


def build_channels(config: Config) -> tuple[list[Channel], list[str]]:
    """Build every channel's apprise objects; returns the channels and plain, masked problems."""
    asset = make_asset()
    channels: list[Channel] = []
    problems: list[str] = []
    for channel_config in config.notify:
        services, found = _load_services(channel_config, asset)
        problems.extend(found)
        targets = tuple(
            Target.from_service(channel_config.name, i, service, asset) for i, service in enumerate(services)
        )
        if not targets and not found:
            problems.append(f"notify {channel_config.name!r}: no apprise URL to send to")
        digest_time = DigestTime.parse(channel_config.digest_at, channel_config.timezone)
        channels.append(Channel(channel_config, targets, digest_time, complete=not found))
    return channels, problems


def check_channels(config: Config) -> list[str]:
    """Problems that would make a channel fail later, for ``watcher check``/``run`` to report at start."""
    return build_channels(config)[1]
