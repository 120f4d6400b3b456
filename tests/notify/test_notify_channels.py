"""Channels: building and checking apprise URLs at start, masking secrets, per-channel filters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from apprise.plugins.slack import NotifySlack

from tests.support.notify import add_change
from watcher.config import Config
from watcher.notify import check_channels, mask_url
from watcher.notify.channels import build_channels
from watcher.notify.filters import filter_sql
from watcher.notify.render import md
from watcher.store import Database
from watcher.store import tracked as store_tracked


def test_good_urls_make_one_target_each_with_its_format(make_config: Callable[[str], Config]) -> None:
    config = make_config(
        """
[[notify]]
name = "curators"
urls = ["mailto://127.0.0.1:2525/?to=a@example.org&from=w@example.org",
        "slack://T1ABCDEFG/B2ABCDEFG/C3abcdefghijklmnopqrstuv/#collections",
        "json://127.0.0.1:9/hook"]
"""
    )
    channels, problems = build_channels(config)
    assert problems == []
    (channel,) = channels
    formats = [(t.is_email, t.body_format, t.limit) for t in channel.targets]
    assert formats[0] == (True, "html", 100_000)  # e-mail: HTML with our own text part, below Gmail's clip
    assert formats[1][1] == "markdown" and formats[1][2] is not None and formats[1][2] <= 4000
    assert formats[2][1] == "text"
    assert len({t.key for t in channel.targets}) == 3


def test_check_names_the_channel_and_masks_the_bad_url(make_config: Callable[[str], Config]) -> None:
    config = make_config(
        """
[[notify]]
name = "chat"
urls = ["slak://T1SECRETTOKEN/B2SECRETTOKEN/C3SECRETTOKEN", "slack://tokenAhunter2/tokenBhunter2"]

[[notify]]
name = "mail"
urls = ["mailtos://curator:hunter2@smtp.example.org"]
"""
    )
    problems = check_channels(config)
    text = "\n".join(problems)
    assert any(
        p.startswith("notify[0] 'chat': URL slak://") and "did you mean slack://" in p for p in problems
    )
    assert any("notify[0] 'chat'" in p and "Slack" in p for p in problems)
    assert "SECRETTOKEN" not in text and "hunter2" not in text


def test_urls_from_yaml_loads_the_good_and_reports_the_bad(
    make_config: Callable[[str], Config], tmp_path: Path
) -> None:
    secrets = tmp_path / "apprise.yml"
    secrets.write_text(
        "urls:\n  - json://127.0.0.1:9/a\n  - slak://T1SECRETTOKEN/B2/C3\n  - mailtos://u:hunter2@smtp.example.org?to=x@example.org\n",
        encoding="utf-8",
    )
    config = make_config('[[notify]]\nname = "ops"\nurls_from = "apprise.yml"\n')
    channels, problems = build_channels(config)
    assert len(channels[0].targets) == 2
    assert len(problems) == 1 and "urls_from" in problems[0] and "notify[0] 'ops'" in problems[0]
    assert "line 3: URL slak://" in problems[0] and "did you mean slack://?" in problems[0]
    assert "SECRETTOKEN" not in problems[0]
    assert all("hunter2" not in t.label for t in channels[0].targets)


def test_unreadable_urls_from_is_a_problem(make_config: Callable[[str], Config], tmp_path: Path) -> None:
    secrets = tmp_path / "apprise.txt"
    secrets.write_bytes(b"json://127.0.0.1:9/a\n\xff\xfe not utf-8\n")
    config = make_config('[[notify]]\nname = "ops"\nurls_from = "apprise.txt"\n')
    problems = check_channels(config)
    assert len(problems) == 1
    assert "cannot read urls_from" in problems[0] and "apprise.txt" in problems[0]
    secrets.unlink()  # gone after `watcher check` passed: still reported, not a crash
    assert any("cannot read urls_from" in p for p in check_channels(config))


def test_mask_url_hides_credentials_in_apprise_forms() -> None:
    for url, secret in [
        ("mailtos://curator:hunter2@smtp.example.org?to=a@example.org", "hunter2"),
        ("slack://T1AAAAAAA/B2BBBBBBB/C3ccccccccccccccccccccc/#chan", "C3ccccccccccccccccccccc"),
        ("discord://123456789012/abcdefSECRETxyz", "abcdefSECRETxyz"),
        ("json://user:pw123@host:8080/path?token=sekrit", "sekrit"),
        ("a bare token 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ]:
        assert secret not in mask_url(url), url
    assert mask_url("mailto://127.0.0.1:2525/?to=a@example.org").startswith("mailto://127.0.0.1:2525/")


def test_markdown_escaping_keeps_slack_mentions_and_links_literal() -> None:
    hostile = "<!channel> <@U123> <https://evil.example|click> *bold* [x](https://evil.example) @everyone"
    converted = NotifySlack._commonmark_to_slack(md(hostile))  # type: ignore[no-untyped-call]  # apprise is untyped
    assert "<!channel>" not in converted and "<@U123>" not in converted
    assert "<https://evil.example" not in converted
    assert "&lt;!channel&gt;" in converted
    assert "@everyone" not in md(hostile)  # a zero-width space stops the ping


async def _matching(db: Database, config: Config) -> set[int]:
    condition, params = filter_sql(config.notify[0])
    return {row[0] for row in await db.fetchall(f"SELECT id FROM changes WHERE {condition}", params)}


async def test_filters_select_fields_languages_files_categories_and_kind(
    db: Database, make_config: Callable[[str], Config]
) -> None:
    vase_sv = await add_change(db, file="File:Vase.jpg", field="description", language="sv")
    vase_none = await add_change(db, file="File:Vase.jpg", field="title", language=None)
    bowl_en = await add_change(db, file="File:Bowl.jpg", field="description", language="en")
    upkeep = await add_change(db, file="File:Bowl.jpg", field="category", template=None, kind="maintenance")
    async with db.transaction() as conn:
        await store_tracked.add_file(conn, "File:Bowl.jpg", "category", "Category:Ceramics")
        await store_tracked.add_file(conn, "File:Vase.jpg", "category", "Category:Glass")

    def channel(filters: str) -> Config:
        return make_config(f'[[notify]]\nname = "c"\nurls = ["json://127.0.0.1:9/x"]\n{filters}\n')

    assert await _matching(db, channel("")) == {vase_sv, vase_none, bowl_en}
    assert await _matching(db, channel('kind = "all"')) == {vase_sv, vase_none, bowl_en, upkeep}
    assert await _matching(db, channel('kind = "maintenance"')) == {upkeep}
    assert await _matching(db, channel('fields = ["Description"]')) == {vase_sv, bowl_en}
    assert await _matching(db, channel('languages = ["sv", "none"]')) == {vase_sv, vase_none}
    assert await _matching(db, channel('files = ["Vase.jpg"]')) == {vase_sv, vase_none}
    assert await _matching(db, channel('categories = ["ceramics"]')) == {bowl_en}
    both = 'categories = ["Category:Ceramics"]\nfields = ["title"]'
    assert await _matching(db, channel(both)) == set()
