"""Issue 17, item 8: `systemd/watcherctl` runs a watcher command as the service's dynamic user.

systemd-run is replaced by a stand-in script (``SYSTEMD_RUN``) that records the arguments it was
given, so the test checks what would be started: the unit's identity, state folder, config and
credential, the command's own arguments unchanged, and the command's exit code passed back.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
WATCHERCTL = SYSTEMD_DIR / "watcherctl"


def unit_directives(unit: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (SYSTEMD_DIR / unit).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


@pytest.fixture
def fake_systemd_run(tmp_path: Path) -> Path:
    """A systemd-run that writes its arguments as JSON to $RECORD and exits with $FAKE_EXIT."""
    script = tmp_path / "systemd-run"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "with open(os.environ['RECORD'], 'w') as f: json.dump(sys.argv[1:], f)\n"
        "sys.exit(int(os.environ.get('FAKE_EXIT', '0')))\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


def run(
    fake: Path, tmp_path: Path, *args: str, credential: Path | None = None, exit_code: int = 0
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    record = tmp_path / "args.json"
    record.unlink(missing_ok=True)
    env = {
        **os.environ,
        "SYSTEMD_RUN": str(fake),
        "RECORD": str(record),
        "FAKE_EXIT": str(exit_code),
        "WATCHER_CREDENTIAL": str(credential or tmp_path / "no-such-apprise.yml"),
    }
    env.pop("WATCHER_CONFIG", None)
    env.pop("WATCHER_BIN", None)
    done = subprocess.run(
        ["bash", str(WATCHERCTL), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )
    given: list[str] = json.loads(record.read_text(encoding="utf-8")) if record.exists() else []
    return done, given


def properties(given: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for flag, value in itertools.pairwise(given):
        if flag == "-p":
            key, _, rest = value.partition("=")
            found.setdefault(key, []).append(rest)
    return found


def test_the_script_parses() -> None:
    assert subprocess.run(["bash", "-n", str(WATCHERCTL)], capture_output=True).returncode == 0
    assert os.access(WATCHERCTL, os.X_OK)


@pytest.mark.skipif(
    shutil.which("shellcheck") is None and not os.environ.get("CI"),
    reason="shellcheck is not installed (in CI it must be: `make shell` installs it)",
)
def test_shellcheck_is_clean() -> None:
    done = subprocess.run(["shellcheck", str(WATCHERCTL)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_a_command_runs_as_the_units_user_with_its_state_config_and_credential(
    fake_systemd_run: Path, tmp_path: Path
) -> None:
    credential = tmp_path / "apprise.yml"
    credential.write_text("urls: []\n", encoding="utf-8")
    done, given = run(fake_systemd_run, tmp_path, "user", "add", "anna", credential=credential)
    assert done.returncode == 0, done.stderr
    command = given[given.index("--") + 1 :]
    assert command == ["/opt/watcher/venv/bin/watcher", "user", "add", "anna"]
    options = given[: given.index("--")]
    assert {"--quiet", "--wait", "--collect", "--pipe"} <= set(options)  # stdin is not a terminal here
    assert "--pty" not in options
    unit = unit_directives("watcher.service")
    found = properties(options)
    for key in ("DynamicUser", "User", "StateDirectory", "ConfigurationDirectory", "UMask"):
        assert found[key] == unit[key], key  # the very identity and state folder of the service
    assert "WATCHER_CONFIG=/etc/watcher/config.toml" in found["Environment"]
    assert found["LoadCredential"] == [f"apprise.yml:{credential}"]


def test_arguments_pass_through_unchanged_and_the_exit_code_comes_back(
    fake_systemd_run: Path, tmp_path: Path
) -> None:
    done, given = run(
        fake_systemd_run, tmp_path, "history", "--files", "File:A b; rm -rf $HOME.jpg", "--since", "2024-01-01",
        exit_code=75,
    )  # fmt: skip
    assert done.returncode == 75
    assert given[given.index("--") + 1 :][1:] == [
        "history", "--files", "File:A b; rm -rf $HOME.jpg", "--since", "2024-01-01",
    ]  # fmt: skip
    assert "LoadCredential" not in properties(given)  # no credential file: none asked for


def test_settings_from_the_environment(fake_systemd_run: Path, tmp_path: Path) -> None:
    record = tmp_path / "args.json"
    env = {
        **os.environ,
        "SYSTEMD_RUN": str(fake_systemd_run),
        "RECORD": str(record),
        "WATCHER_BIN": "/usr/bin/w",
        "WATCHER_CONFIG": "/srv/watcher/config.toml",
    }
    subprocess.run(["bash", str(WATCHERCTL), "status"], env=env, stdin=subprocess.DEVNULL, check=True)
    given = json.loads(record.read_text(encoding="utf-8"))
    assert given[given.index("--") + 1 :] == ["/usr/bin/w", "status"]
    assert "WATCHER_CONFIG=/srv/watcher/config.toml" in properties(given)["Environment"]


@pytest.mark.parametrize(
    ("args", "code", "says"), [((), 64, "usage:"), (("run",), 64, "systemctl start watcher")]
)
def test_no_command_or_the_daemon_itself_is_refused(
    fake_systemd_run: Path, tmp_path: Path, args: tuple[str, ...], code: int, says: str
) -> None:
    done, given = run(fake_systemd_run, tmp_path, *args)
    assert done.returncode == code and says in done.stderr
    assert given == []  # nothing was started


def test_help(fake_systemd_run: Path, tmp_path: Path) -> None:
    done, given = run(fake_systemd_run, tmp_path, "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: watcherctl COMMAND") and given == []
