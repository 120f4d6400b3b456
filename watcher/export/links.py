"""Links to the wiki, built only from the configured wiki's address and URL-quoted titles.

Nothing from Commons ever becomes a URL's scheme or host: a title or user name is only ever a quoted
path or query part behind a prefix taken from the config, so a hostile value cannot make a
``javascript:`` link or point elsewhere.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlsplit

from watcher.config import Config
from watcher.export.shared import index_url

# Characters MediaWiki titles keep readable in URLs; everything else is %-encoded.
_SAFE = ":/(),!*-._~"
# Never in a URL the page shows as is (quotes and angle brackets would end an attribute; a backslash
# some browsers read as a slash).
_UNSAFE_IN_URL = frozenset("\"'<>\\`")
WIKIMEDIA_UPLOAD_ORIGIN = "https://upload.wikimedia.org"


def _quote_title(title: str) -> str:
    return quote(title.replace(" ", "_"), safe=_SAFE)


class WikiLinks:
    def __init__(self, config: Config) -> None:
        self.index = index_url(config)
        parts = urlsplit(config.wiki.api_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        script_path = config.wiki.api_url.rsplit("/", 1)[0]
        # Wikimedia wikis (and most others) serve articles under /wiki/ when scripts live in /w/.
        self.article_prefix = f"{self.origin}/wiki/" if script_path == f"{self.origin}/w" else None
        host = parts.hostname or ""
        # Where the page may load images from (its Content-Security-Policy): the wiki itself (its
        # Special:FilePath, and where it serves its own uploads, as the demo's stand-in does) and, for a
        # Wikimedia wiki, the upload host that its thumbnail URLs and FilePath's redirects point to.
        self.image_origins: tuple[str, ...] = (self.origin,)
        if host.endswith((".wikimedia.org", ".wikipedia.org")):
            self.image_origins = (self.origin, WIKIMEDIA_UPLOAD_ORIGIN)

    def page(self, title: str, query: str = "") -> str:
        if self.article_prefix:
            return self.article_prefix + _quote_title(title) + (f"?{query}" if query else "")
        return f"{self.index}?title={_quote_title(title)}" + (f"&{query}" if query else "")

    def file_page(self, file_title: str) -> str:
        return self.page(file_title if file_title.startswith("File:") else f"File:{file_title}")

    def thumbnail(self, file_title: str, width: int = 120, stored: str | None = None) -> str:
        """The file's thumbnail: ``stored`` (its thumb URL from ``prop=imageinfo``, as
        :func:`watcher.store.thumbnails.thumbnails` gives it) where :meth:`allows_image` takes it, else
        the wiki's Special:FilePath (one redirect more, and none for a wiki that has no such page)."""
        if stored is not None and self.allows_image(stored):
            return stored
        name = file_title.removeprefix("File:")
        return self.page(f"Special:FilePath/{name}", f"width={int(width)}")

    def allows_image(self, url: str) -> bool:
        """Whether ``url`` is an http(s) address on one of :attr:`image_origins`, with nothing in it an
        HTML attribute or the page's Content-Security-Policy would stumble on: a stored URL came from
        the API's answer, so its host is taken only where the config already names it."""
        if any(ch.isspace() or ch in _UNSAFE_IN_URL for ch in url):
            return False
        origin = _origin_of(url)
        return origin is not None and origin in {_origin_of(o) for o in self.image_origins}

    def user_page(self, user: str) -> str:
        return self.page(f"Special:Contributions/{user}") if _is_ip(user) else self.page(f"User:{user}")

    def contributions(self, user: str) -> str:
        return self.page(f"Special:Contributions/{user}")

    def diff(self, revision: int, old_revision: int | None) -> str:
        if old_revision:
            return f"{self.index}?diff={int(revision)}&oldid={int(old_revision)}"
        return f"{self.index}?oldid={int(revision)}"

    def history(self, file_title: str) -> str:
        return f"{self.index}?title={_quote_title(file_title)}&action=history"


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, lower case, default port left out; None for any
    other URL, one with a user name or password, or one that does not parse."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host += f":{port}"
    return f"{parts.scheme}://{host}"


def _is_ip(user: str) -> bool:
    try:
        ipaddress.ip_address(user)
    except ValueError:
        return False
    return True
