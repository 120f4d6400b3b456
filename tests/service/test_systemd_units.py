"""The shipped units: what they must say, and `systemd/verify.sh` (systemd-analyze verify + security)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from watcher.config import EX_CONFIG
from watcher.store.db import DatabaseDamaged, DatabaseGone

SYSTEMD_DIR = Path(__file__).resolve().parents[2] / "systemd"
VERIFY = SYSTEMD_DIR / "verify.sh"
WATCHER_BIN = shutil.which("watcher") or str(
    Path(__file__).resolve().parents[2] / ".venv" / "bin" / "watcher"
)

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (CI has it)"
)


def directives(unit: str) -> dict[str, list[str]]:
    """Key → every value it is given (systemd allows repeating a key, e.g. SystemCallFilter=)."""
    found: dict[str, list[str]] = {}
    for line in (SYSTEMD_DIR / unit).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_service_unit_has_the_operational_settings() -> None:
    unit = directives("watcher.service")
    expected = {
        "Type": "notify",
        "NotifyAccess": "main",
        "WatchdogSec": "60",
        "Restart": "on-failure",
        "RestartSec": "5",
        "RestartPreventExitStatus": "78 65 74",
        "TimeoutStopSec": "30",
        "DynamicUser": "yes",
        "StateDirectory": "watcher",
        "ConfigurationDirectory": "watcher",
        "UMask": "0077",
        "ExecStart": "/opt/watcher/venv/bin/watcher run",
        "SyslogIdentifier": "watcher",
        "MemoryDenyWriteExecute": "yes",
        "ProtectSystem": "strict",
        "ProtectProc": "invisible",
        "ProcSubset": "pid",
        "CapabilityBoundingSet": "",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    assert "WATCHER_CONFIG=/etc/watcher/config.toml" in unit["Environment"]
    assert unit["SystemCallFilter"] == ["@system-service", "~@privileged @resources"]
    assert unit["LoadCredential"] == ["apprise.yml:/etc/watcher/apprise.yml"]


def test_the_exit_codes_a_restart_cannot_fix_are_the_ones_the_watcher_uses() -> None:
    codes = f"{EX_CONFIG} {DatabaseDamaged.exit_code} {DatabaseGone.exit_code}"
    assert directives("watcher.service")["RestartPreventExitStatus"] == [codes]


def test_digest_timer_and_service() -> None:
    timer = directives("watcher-digest.timer")
    assert timer["OnCalendar"] == ["*-*-* 07:30 Europe/Stockholm"]
    assert timer["Persistent"] == ["true"]
    service = directives("watcher-digest.service")
    assert service["Type"] == ["oneshot"]
    assert service["ExecStart"] == ["/opt/watcher/venv/bin/watcher digest --send"]
    # Same dynamic user as the daemon, so both reach the same state directory without chown fights.
    assert service["User"] == directives("watcher.service")["User"] == ["watcher"]
    assert service["StateDirectory"] == ["watcher"]


def run_verify(systemd_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(systemd_dir / "verify.sh")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "WATCHER_BIN": WATCHER_BIN},
    )


@needs_systemd_analyze
def test_verify_script_passes() -> None:
    result = run_verify(SYSTEMD_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify: clean" in result.stdout
    assert "watcher.service: exposure" in result.stdout
    assert "watcher-digest.service: exposure" in result.stdout


@needs_systemd_analyze
def test_verify_script_fails_on_a_broken_unit(tmp_path: Path) -> None:
    broken = tmp_path / "systemd"
    shutil.copytree(SYSTEMD_DIR, broken)
    unit = broken / "watcher.service"
    unit.write_text(unit.read_text().replace("RestartSec=5", "RestartSec=5\nRestartsec=5"))
    result = run_verify(broken)
    assert result.returncode != 0
    assert "Unknown key" in result.stdout + result.stderr


@needs_systemd_analyze
def test_verify_script_fails_when_hardening_is_dropped(tmp_path: Path) -> None:
    weak = tmp_path / "systemd"
    shutil.copytree(SYSTEMD_DIR, weak)
    unit = weak / "watcher.service"
    hardening = (
        "PrivateUsers=",
        "ProtectSystem=",
        "SystemCallFilter=",
        "CapabilityBoundingSet=",
        "PrivateDevices=",
    )
    kept = [line for line in unit.read_text().splitlines() if not line.startswith(hardening)]
    unit.write_text("\n".join(kept) + "\n")
    result = run_verify(weak)
    assert result.returncode != 0
    assert "watcher.service: exposure" in result.stdout
    assert "is above 2.0" in result.stderr


@needs_systemd_analyze
def test_verify_script_fails_when_the_timer_names_no_shipped_service(tmp_path: Path) -> None:
    broken = tmp_path / "systemd"
    shutil.copytree(SYSTEMD_DIR, broken)
    timer = broken / "watcher-digest.timer"
    timer.write_text(timer.read_text().replace("Unit=watcher-digest.service", "Unit=watcher-digests.service"))
    result = run_verify(broken)
    assert result.returncode != 0
    assert "Unit=watcher-digests.service" in result.stderr
