"""Why a ``[[notify]]`` URL cannot work, in words a sysadmin can act on.

- **Where.** tomllib keeps no positions, so :class:`NotifyLines` finds each ``[[notify]]`` entry and
  each of its URLs in the config file's text: a problem says ``line 14: notify[1] 'registrar'``.
- **A misspelt scheme.** apprise says only "Unparseable URL"; :func:`unknown_scheme` names the scheme
  and the closest ones apprise has (``slak`` → ``slack``), from apprise's own list of services
  (``Apprise.details()``), so the list follows the installed apprise.
- **A URL apprise cannot read.** Its own lines that only repeat the URL ("Could not load Slack URL:
  …") are left out; what remains (e.g. "An invalid Slack (third) Token") is kept, with the service's
  setup page.
- **E-mail with nothing to send through.** apprise's ``mailto://`` takes the SMTP server from
  ``smtp=``, else from its table of known providers (Gmail, Outlook, …, matched on the address), else
  it uses the URL's host itself. ``mailto://samlingar@nationalmuseum.se`` is an address pasted as a
  URL: apprise would connect to nationalmuseum.se (a web site, usually) without a login. A user part
  without a password and without ``smtp=`` is that mistake; :func:`email_problem` says so.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import apprise
from apprise.plugins.email import NotifyEmail

SERVICES_PAGE = "https://appriseit.com/services/"


@dataclass(frozen=True)
class Service:
    name: str
    setup_url: str


def _protocols(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple | list):
        return [str(v) for v in value]
    return []


@functools.cache
def known_schemes() -> dict[str, Service]:
    """Every scheme the installed apprise has a service for (enabled or not), with its setup page."""
    details: dict[str, Any] = apprise.Apprise().details(show_disabled=True)
    schemes: dict[str, Service] = {}
    for entry in details.get("schemas", []):
        service = Service(str(entry.get("service_name") or ""), str(entry.get("setup_url") or SERVICES_PAGE))
        for name in _protocols(entry.get("protocols")) + _protocols(entry.get("secure_protocols")):
            schemes.setdefault(name.lower(), service)
    return schemes


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].strip().lower()


def unknown_scheme(url: str) -> str | None:
    """``apprise has no slak:// service; did you mean slack://?`` where the scheme is not apprise's."""
    scheme = _scheme(url)
    schemes = known_schemes()
    if scheme in schemes:
        return None
    close = difflib.get_close_matches(scheme, list(schemes), n=1, cutoff=0.6)
    if not close:
        return f"apprise has no {scheme}:// service (the services and their URLs: {SERVICES_PAGE})"
    return f"apprise has no {scheme}:// service; did you mean {close[0]}://?"


# apprise's lines that only repeat the URL it could not use.
_REPEATS = re.compile(r"^(Could not load .*URL\b|Unparseable( \S+)* URL\b|Unsupported URL\b)", re.I)


def explain_unloadable(url: str, warnings: list[str]) -> str:
    """Why apprise refused ``url``: the scheme meant, or apprise's own reasons and the service's page."""
    unknown = unknown_scheme(url)
    if unknown is not None:
        return unknown
    service = known_schemes()[_scheme(url)]
    reasons = [w for w in warnings if not _REPEATS.match(w)]
    said = "; ".join(reasons) or f"apprise cannot read it as a {service.name} URL"
    return f"{said} (the {service.name} URL forms: {service.setup_url})"


def _explicit_smtp(raw_url: str | None) -> bool:
    if raw_url is None:
        return False
    return bool(parse_qs(urlsplit(raw_url).query).get("smtp"))


def email_problem(service: Any, raw_url: str | None) -> str | None:
    """An e-mail URL that has no server to send through (an address pasted as a URL), or no password
    for the provider apprise found for it; None where it names its server properly.

    ``raw_url`` is the URL as written (None for one from ``urls_from``: its ``smtp=`` is then read back
    from apprise's own URL of the service).
    """
    if not isinstance(service, NotifyEmail):
        return None
    email: Any = service  # apprise is untyped
    if not email.user or email.password:
        return None  # a server with a login, or a server without a user (a relay that takes plain SMTP)
    if _explicit_smtp(raw_url if raw_url is not None else str(email.url(privacy=True))):
        return None  # smtp=HOST: the sender knows which server they mean
    host = str(email.host or "")
    smtp_host = str(email.smtp_host or host)
    if smtp_host != host:  # a provider apprise knows (Gmail, Outlook, …) by the address's domain
        return (
            f"names no password: sending through {smtp_host} needs the account's login "
            f"(mailtos://USER:PASSWORD@{host}?to=ADDRESS; an app password where the provider asks for one)"
        )
    return (
        f"has no server to send through: {host} is not a mail provider apprise knows, so apprise would "
        f"connect to {host} itself (port {email.port}, no login). Name the SMTP server: "
        "mailtos://USER:PASSWORD@smtp.example.org?to=ADDRESS (or add smtp=HOST)"
    )


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_URLS_KEY = re.compile(r"^\s*urls\s*=")
_URLS_FROM_KEY = re.compile(r"^\s*urls_from\s*=")


class NotifyLines:
    """Where each ``[[notify]]`` entry, and each of its URLs, is in the config file (1-based lines).

    Read from the file's text, as :mod:`watcher.config` finds its lines; a file that cannot be read
    (a config built from text in a test) has no lines, and the problems say only the entry.
    """

    def __init__(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        self.lines = text.splitlines()
        self.blocks: list[tuple[int, int]] = []  # [[notify]] entries: (header index, end index)
        current: int | None = None
        for number, line in enumerate(self.lines):
            header = _HEADER.match(line)
            if header is None:
                continue
            if current is not None:
                self.blocks.append((current, number))
                current = None
            if header.group(1) == "[[" and header.group(2).strip().strip("\"'") == "notify":
                current = number
        if current is not None:
            self.blocks.append((current, len(self.lines)))

    def _block(self, index: int) -> tuple[int, int] | None:
        return self.blocks[index] if 0 <= index < len(self.blocks) else None

    def _find(self, index: int, wanted: re.Pattern[str] | None, literal: str | None = None) -> int | None:
        block = self._block(index)
        if block is None:
            return None
        for number in range(block[0], block[1]):
            line = self.lines[number]
            if literal is not None and (f'"{literal}"' in line or f"'{literal}'" in line):
                return number + 1
            if wanted is not None and wanted.match(line):
                return number + 1
        return None

    def entry(self, index: int) -> int | None:
        block = self._block(index)
        return block[0] + 1 if block else None

    def url(self, index: int, url: str) -> int | None:
        """The line holding ``url`` in the entry; else its ``urls =`` line; else the entry's header."""
        return self._find(index, None, url) or self._find(index, _URLS_KEY) or self.entry(index)

    def urls_from(self, index: int) -> int | None:
        return self._find(index, _URLS_FROM_KEY) or self.entry(index)


def where(index: int, name: str, line: int | None) -> str:
    """``line 14: notify[1] 'registrar'`` (the entry as ``watcher check`` names config keys)."""
    return f"{f'line {line}: ' if line else ''}notify[{index}] {name!r}"
