"""The smallest valid configuration the tests build on, and the User-Agent it declares."""

from __future__ import annotations

USER_AGENT = "Test/1.0 (test@example.org)"
MINIMAL_CONFIG = f'[watcher]\nuser_agent = "{USER_AGENT}"\n\n[tracking]\ncategories = ["Category:X"]\n'
