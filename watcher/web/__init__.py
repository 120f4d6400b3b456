"""The review web page: curators judge provenance and accept or reject changes, then export them."""

from watcher.web.app import create_app, run_web

__all__ = ["create_app", "run_web"]
