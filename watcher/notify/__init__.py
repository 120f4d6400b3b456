"""Notifications: apprise channels, immediate alerts, daily digests, and the outbox that sends them.

Also why a channel's URL cannot work, with its config line (``diagnose``), and the test message of
``watcher notify test`` (``trial``).
"""

from watcher.notify.channels import check_channels, mask_url
from watcher.notify.service import run_notifier

__all__ = ["check_channels", "mask_url", "run_notifier"]
