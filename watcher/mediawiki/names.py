"""User names as MediaWiki spells them, and the names that are no account (IP addresses, temporary).

Pure and without aiohttp, so that the store and the pages can tell an IP editor from an account too.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = ["is_unregistered", "user_name"]

# MediaWiki's default $wgAutoCreateTempUser['matchPattern'] ("~$1"): "~2025-12345", "~2025-1234-5".
_TEMPORARY = re.compile(r"^~\d{4}-[\d-]+$")


def user_name(name: str) -> str:
    """A user name as MediaWiki normalises it: underscores as spaces, collapsed, first letter upper case."""
    text = " ".join(name.replace("_", " ").split())
    return text[:1].upper() + text[1:]


def is_temporary(name: str) -> bool:
    return bool(_TEMPORARY.match(name.strip()))


def is_unregistered(name: str | None) -> bool:
    """An IP address (v4 or v6) or a temporary account: no account whose facts could be looked up."""
    if not name:
        return False
    text = name.strip()
    if is_temporary(text):
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
