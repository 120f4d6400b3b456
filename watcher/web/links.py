"""Links to the wiki, built only from the configured wiki's address and URL-quoted titles.

Nothing from Commons ever becomes a URL's scheme or host: a title or user name is only ever a quoted
path or query part behind a prefix taken from the config, so a hostile value cannot make a
``javascript:`` link or point elsewhere.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import quote, urlsplit

from watcher.config import Config
from watcher.export.writers import index_url

# Characters MediaWiki titles keep readable in URLs; everything else is %-encoded.
_SAFE = ":/(),!*-._~"


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
        self.image_origins: tuple[str, ...] = (self.origin,)
        if host.endswith((".wikimedia.org", ".wikipedia.org")):
            # Special:FilePath redirects to the thumbnail on the upload host.
            self.image_origins = (self.origin, "https://upload.wikimedia.org")

    def page(self, title: str, query: str = "") -> str:
        if self.article_prefix:
            return self.article_prefix + _quote_title(title) + (f"?{query}" if query else "")
        return f"{self.index}?title={_quote_title(title)}" + (f"&{query}" if query else "")

    def file_page(self, file_title: str) -> str:
        return self.page(file_title if file_title.startswith("File:") else f"File:{file_title}")

    def thumbnail(self, file_title: str, width: int = 120) -> str:
        name = file_title.removeprefix("File:")
        return self.page(f"Special:FilePath/{name}", f"width={int(width)}")

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


def _is_ip(user: str) -> bool:
    try:
        ipaddress.ip_address(user)
    except ValueError:
        return False
    return True
