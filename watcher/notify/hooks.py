"""Two narrow hooks into apprise 2.2, active only inside :func:`observing` (a context variable).

1. **HTTP responses.** apprise's Slack and JSON plugins turn a ``429 Too Many Requests`` into a plain
   ``False`` and drop the ``Retry-After`` header, so the outbox could not honour it. Every apprise HTTP
   plugin sends through ``requests.Session.send``; the wrapper records ``(status, Retry-After)`` of
   each response into the current observation. apprise runs plugins in worker threads under
   ``contextvars.copy_context().run``, so the observation set by the sending task is the one the
   thread sees. Outside :func:`observing` the wrapper only passes the call through.
2. **The e-mail's text part.** With ``body_format=HTML`` apprise's e-mail plugin sends
   ``multipart/alternative``, but makes the ``text/plain`` part by stripping the HTML (links lose
   their addresses). The wrapper around the plugin's ``convert_between`` returns our own plain-text
   rendering instead, and only for the exact HTML body being sent.

If a later apprise moves these names, :func:`install` leaves that hook out and logs it: the 429
back-off then falls back to the exponential schedule, and e-mails carry apprise's own text part.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("watcher.notify")


@dataclass
class Observation:
    """What one send saw: HTTP responses, and the e-mail text part to use."""

    responses: list[tuple[int, str | None]] = field(default_factory=list)
    email_html: str | None = None
    email_text: str | None = None

    @property
    def last_status(self) -> int | None:
        return self.responses[-1][0] if self.responses else None

    @property
    def retry_after(self) -> str | None:
        for status, value in reversed(self.responses):
            if status in (429, 503) and value:
                return value
        return None


_current: contextvars.ContextVar[Observation | None] = contextvars.ContextVar(
    "watcher_notify_observation", default=None
)
_installed: set[str] = set()


def install() -> None:
    """Install both hooks once per process (idempotent)."""
    if "requests" not in _installed:
        try:
            sessions = importlib.import_module("requests.sessions")
            original_send: Callable[..., Any] = sessions.Session.send
        except (ImportError, AttributeError):  # pragma: no cover - apprise always brings requests
            log.warning("cannot observe HTTP responses of apprise: Retry-After will not be honoured")
        else:

            def send(self: Any, request: Any, **kwargs: Any) -> Any:
                response = original_send(self, request, **kwargs)
                observation = _current.get()
                if observation is not None:
                    observation.responses.append(
                        (int(response.status_code), response.headers.get("Retry-After"))
                    )
                return response

            sessions.Session.send = send  # the one choke point of every requests call
        _installed.add("requests")
    if "email" not in _installed:
        try:
            email_module = importlib.import_module("apprise.plugins.email.base")
            original_convert: Callable[..., Any] = email_module.convert_between
            html_format = importlib.import_module("apprise").NotifyFormat.HTML
            text_format = importlib.import_module("apprise").NotifyFormat.TEXT
        except (ImportError, AttributeError):  # pragma: no cover - depends on apprise's layout
            log.warning("cannot supply the e-mail text part to apprise: it will strip the HTML instead")
        else:

            def convert_between(from_format: Any, to_format: Any, content: Any) -> Any:
                observation = _current.get()
                if (
                    observation is not None
                    and observation.email_text is not None
                    and observation.email_html is not None
                    and from_format == html_format
                    and to_format == text_format
                    and isinstance(content, str)
                    and content.strip() == observation.email_html.strip()  # apprise strips the body
                ):
                    return observation.email_text
                return original_convert(from_format, to_format, content)

            setattr(email_module, "convert_between", convert_between)  # noqa: B010
        _installed.add("email")


@contextlib.contextmanager
def observing(email_html: str | None = None, email_text: str | None = None) -> Iterator[Observation]:
    """Collect what apprise's plugins see while sending from the current task."""
    install()
    observation = Observation(email_html=email_html, email_text=email_text)
    token = _current.set(observation)
    try:
        yield observation
    finally:
        _current.reset(token)
