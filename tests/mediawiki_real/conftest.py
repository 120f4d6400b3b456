"""A real MediaWiki 1.39 (Debian's package, SQLite, ``php -S``) and its UDP RC feed, for the whole session.

Skip locally with ``WATCHER_SKIP_REAL_MEDIAWIKI=1`` (or ``--no-real-mediawiki`` when pytest is pointed at
this folder). Without root and without the packages the suite skips with that reason; under CI (``$CI``
set) it never skips on its own: a peer that cannot start fails the run with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.mediawiki_real.peer import SCRIPT, BridgeThread, RealWiki
from tests.support.ports import free_port

NOT_ROOT_EXIT = 3  # the script's exit code for "packages missing and not root"
SKIP_ENV = "WATCHER_SKIP_REAL_MEDIAWIKI"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the real MediaWiki peer could not be started under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_wiki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealWiki]:
    if os.environ.get(SKIP_ENV) == "1" or request.config.getoption("--no-real-mediawiki", default=False):
        pytest.skip(f"real MediaWiki suite switched off ({SKIP_ENV}=1 or --no-real-mediawiki)")
    if shutil.which("bash") is None:
        _unavailable("bash is not available to run mediawiki-peer.sh")
    started = time.monotonic()
    thread = BridgeThread()
    bridge = thread.start()
    state = tmp_path_factory.mktemp("mediawiki")
    env = {
        **os.environ,
        "MW_STATE_DIR": str(state / "wiki"),
        "MW_PORT": str(free_port()),
        "MW_RC_PORT": str(bridge.udp_port),
        "MW_WORKERS": "2",
    }
    try:  # `down` also when `up` failed half-way (php -S started, the wiki never answered) or timed out
        up = subprocess.run([str(SCRIPT), "up"], capture_output=True, text=True, env=env, timeout=600)
        if up.returncode != 0:
            tail = (up.stderr + up.stdout)[-3000:]
            if up.returncode == NOT_ROOT_EXIT and not os.environ.get("CI"):
                pytest.skip(
                    "MediaWiki (Debian packages mediawiki php-sqlite3 php-cli) is not installed and this is "
                    "not root: `apt-get install mediawiki php-sqlite3 php-cli` to run this suite"
                )
            _unavailable(f"mediawiki-peer.sh up exited {up.returncode}:\n{tail}")
        values = dict(line.split("=", 1) for line in up.stdout.splitlines() if "=" in line)
        wiki = RealWiki(state=state, api_url=values["MW_API"], env=env, bridge=bridge)
        wiki.timings["up"] = time.monotonic() - started
        yield wiki
    finally:
        subprocess.run([str(SCRIPT), "down"], capture_output=True, env=env, timeout=60)
        thread.stop()
