"""What the format modules share: the wiki's index.php (for diff links) and the chunk size."""

from __future__ import annotations

from watcher.config import Config

CHUNK_ROWS = 500  # records per text chunk of a streamed export


def index_url(config: Config) -> str:
    """index.php beside api.php, for diff links."""
    base = config.wiki.api_url.rsplit("/", 1)[0]
    return f"{base}/index.php"
