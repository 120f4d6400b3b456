"""Issue 17, item 2: `watcher notify test` sends a short message to each URL now and says, per URL, whether
it was delivered, against a real SMTP server and webhook sink on loopback (and a dead one)."""

from __future__ import annotations

from pathlib import Path

from tests.support.config import MINIMAL_CONFIG
from tests.support.notify import HttpSink, SmtpSink, run_watcher
from tests.support.ports import free_port


def _config(tmp_path: Path, smtp_port: int, sink: HttpSink, dead_port: int) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        MINIMAL_CONFIG.replace("[watcher]\n", '[watcher]\ndatabase = "state/w.sqlite3"\n', 1)
        + f"""
[[notify]]
name = "curators"
urls = ["mailto://127.0.0.1:{smtp_port}/?to=anna@museum.example&from=watcher@museum.example",
        "{sink.url("/hook").replace("http://", "json://")}"]

[[notify]]
name = "registrar"
mode = "immediate"
urls = ["json://127.0.0.1:{dead_port}/gone"]
""",
        encoding="utf-8",
    )
    return path


async def test_notify_test_delivers_to_each_url_and_fails_for_a_dead_one(
    tmp_path: Path, smtp: tuple[SmtpSink, int], http_sink: HttpSink
) -> None:
    mails, smtp_port = smtp
    dead_port = free_port()  # nothing listens there
    config = _config(tmp_path, smtp_port, http_sink, dead_port)

    code, out, err = await run_watcher("notify", "test", "-c", str(config), "--timeout", "10")
    assert code == 1, (out, err)  # one URL did not take it
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert lines[0].startswith(f"curators: mailto://127.0.0.1:{smtp_port}/") and lines[0].endswith(
        ": delivered"
    )
    assert lines[1] == f"curators: json://127.0.0.1:{http_sink.port}/hook: delivered"
    assert lines[2].startswith(f"registrar: json://127.0.0.1:{dead_port}/gone: NOT delivered: ")
    assert len(lines[2]) > len(f"registrar: json://127.0.0.1:{dead_port}/gone: NOT delivered: ")
    assert "2 of 3 URL(s) took the test message" in err

    (mail,) = mails.mails
    assert mail.recipients == ["anna@museum.example"] and mail.sender == "watcher@museum.example"
    assert mail.message["Subject"] == "Commons Watcher: test message"
    assert "watcher notify test" in mail.part("text/plain") and "curators" in mail.part("text/html")
    (post,) = http_sink.ok("/hook")
    assert post.body["title"] == "Commons Watcher: test message"
    assert "curators" in post.body["message"]
    assert not (tmp_path / "state").exists()  # a test leaves nothing behind: it works before `watcher run`

    code, out, err = await run_watcher("notify", "test", "--channel", "curators", "-c", str(config))
    assert code == 0, (out, err)
    assert [line.rsplit(": ", 1)[1] for line in out.splitlines()] == ["delivered", "delivered"]
    assert len(mails.mails) == 2 and len(http_sink.ok("/hook")) == 2

    code, out, err = await run_watcher("notify", "test", "--channel", "nobody", "-c", str(config))
    assert code == 2 and "no [[notify]] channel 'nobody' (curators, registrar)" in err


async def test_notify_test_reports_an_unusable_url_and_tries_the_rest(
    tmp_path: Path, http_sink: HttpSink
) -> None:
    path = tmp_path / "config.toml"
    hook = http_sink.url("/ok").replace("http://", "json://")
    path.write_text(
        MINIMAL_CONFIG + f'\n[[notify]]\nname = "chat"\nurls = ["{hook}", "slak://T1/B2/C3"]\n',
        encoding="utf-8",
    )
    code, out, err = await run_watcher("notify", "test", "-c", str(path))
    assert code == 78, (out, err)  # delivered where it could be; the config needs a fix
    assert out.splitlines() == [f"chat: json://127.0.0.1:{http_sink.port}/ok: delivered"]
    assert "line 9: notify[0] 'chat': URL slak://***/***/***: apprise has no slak:// service" in err  # urls =
    assert len(http_sink.ok("/ok")) == 1
