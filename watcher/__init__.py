"""Commons Watcher: follow Wikimedia Commons edits to a museum's files and hand them back."""

__version__ = "0.1.0"
