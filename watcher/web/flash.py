"""The message a page shows once after a form: what was decided, and which changes an Undo takes back.

Kept in the session's ``flash`` column as JSON (``{"text": ..., "undo": [ids]}``); a plain string
(what the export download and older sessions store) reads as a message without an undo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiohttp import web

from watcher.web import auth
from watcher.web.kit import DB, current_session

UNDO_MAX = 1000  # an Undo takes back at most what one bulk action decided


@dataclass(frozen=True)
class Flash:
    text: str
    undo: tuple[int, ...] = ()  # the changes whose decision the message's Undo button takes back

    def encode(self) -> str:
        return json.dumps({"text": self.text, "undo": list(self.undo)}, ensure_ascii=False)

    @classmethod
    def decode(cls, stored: str) -> Flash:
        try:
            value = json.loads(stored)
        except ValueError:
            return cls(stored)
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            return cls(stored)
        undo = value.get("undo")
        ids = tuple(i for i in undo if isinstance(i, int))[:UNDO_MAX] if isinstance(undo, list) else ()
        return cls(value["text"], ids)


async def set_flash(request: web.Request, flash: Flash) -> None:
    await auth.set_flash(request.app[DB], current_session(request).token_hash, flash.encode())


async def pop_flash(request: web.Request) -> Flash | None:
    """The session's message, once: read and cleared."""
    session = current_session(request)
    if session.flash is None:
        return None
    await auth.set_flash(request.app[DB], session.token_hash, None)
    return Flash.decode(session.flash)
