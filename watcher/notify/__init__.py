"""Notifications: apprise channels, immediate alerts, daily digests, and the outbox that sends them."""

from watcher.notify.channels import check_channels, mask_url
from watcher.notify.service import run_notifier

__all__ = ["check_channels", "mask_url", "run_notifier"]
