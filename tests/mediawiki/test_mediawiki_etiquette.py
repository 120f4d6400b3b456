"""ActionApi etiquette and failure handling: shared parameters, serial requests, maxlag, Retry-After,
capped retries, API errors, network faults, statistics."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest

from tests.support.mediawiki import USER_AGENT, RecordedSleeps
from watcher.base.retry import parse_retry_after
from watcher.demo.standins.action_api import ActionApiPeer
from watcher.mediawiki.client import ActionApi, ApiError

QUERY = {"action": "query", "list": "categorymembers", "cmtitle": "Category:Museum"}


def _populate(peer: ActionApiPeer) -> int:
    peer.add_page("File:One.jpg", "[[Category:Museum]]")
    return peer.edit("File:One.jpg", "[[Category:Museum]] {{Artwork}}")


async def test_every_request_carries_the_etiquette(peer: ActionApiPeer, api: ActionApi) -> None:
    revid = _populate(peer)
    peer.add_entity("Q1", {"en": "x"})
    await api.revisions([revid])
    _ = [m async for m in api.category_members("Museum", depth=1)]
    _ = [m async for m in api.uploads_by("Example Museum")]
    _ = [m async for m in api.embedded_in("Artwork")]
    await api.page_info(["File:One.jpg"])
    await api.file_sha1("File:One.jpg")
    _ = [c async for c in api.recent_changes(start="2020-01-01T00:00:00Z")]
    await api.entity_labels(["Q1"], ["en"])

    assert len(peer.requests) >= 9
    for request in peer.requests:
        assert request.user_agent == USER_AGENT
        assert request.accept_encoding == "gzip"
        assert request.params["format"] == "json"
        assert request.params["formatversion"] == "2"
        assert request.params["maxlag"] == "5"
    assert api.stats.requests == len(peer.requests) and api.stats.errors == 0


async def test_interactive_calls_and_maxlag_none_leave_maxlag_out(
    peer: ActionApiPeer, sleeps: RecordedSleeps
) -> None:
    async with ActionApi(peer.url, USER_AGENT, sleep=sleeps) as api:
        await api.request(QUERY, interactive=True)
    async with ActionApi(peer.url, USER_AGENT, maxlag=None, sleep=sleeps) as api:
        await api.request(QUERY)
    async with ActionApi(peer.url, USER_AGENT, maxlag=3, sleep=sleeps) as api:
        await api.request(QUERY)
    assert [r.params.get("maxlag") for r in peer.requests] == [None, None, "3"]


async def test_a_user_agent_is_required() -> None:
    with pytest.raises(ValueError, match="User-Agent"):
        ActionApi("http://127.0.0.1:9/w/api.php", " ")


async def test_concurrent_callers_never_overlap(peer: ActionApiPeer, api: ActionApi) -> None:
    revid = _populate(peer)
    peer.latency = 0.02

    async def listing() -> list[str]:
        return [m.title async for m in api.category_members("Museum")]

    results = await asyncio.gather(
        api.revisions([revid]),
        api.page_info(["File:One.jpg"]),
        api.file_sha1("File:One.jpg"),
        listing(),
        *(api.request(QUERY) for _ in range(4)),
    )

    assert results[3] == ["File:One.jpg"]
    assert len(peer.requests) == 8
    assert peer.max_in_flight == 1


async def test_the_stand_in_does_see_overlap_when_a_client_is_not_serial(peer: ActionApiPeer) -> None:
    # The control for the test above: the same load from a plain session does overlap.
    peer.latency = 0.05
    params = {**QUERY, "format": "json", "formatversion": "2"}
    async with aiohttp.ClientSession() as session:

        async def one() -> int:
            async with session.get(peer.url, params=params) as response:
                return response.status

        assert await asyncio.gather(*(one() for _ in range(4))) == [200] * 4
    assert peer.max_in_flight > 1


async def test_a_shared_session_is_used_serially_and_left_open(
    peer: ActionApiPeer, sleeps: RecordedSleeps
) -> None:
    peer.latency = 0.02
    async with aiohttp.ClientSession() as session:
        async with ActionApi(peer.url, USER_AGENT, session=session, sleep=sleeps) as api:
            await asyncio.gather(*(api.request(QUERY) for _ in range(4)))
        assert not session.closed
    assert peer.max_in_flight == 1 and len(peer.requests) == 4


async def test_maxlag_pauses_for_retry_after_then_succeeds(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps
) -> None:
    _populate(peer)
    peer.fail_maxlag(times=2, lag=8)  # MediaWiki then sends Retry-After: 8

    members = [m.title async for m in api.category_members("Museum")]

    assert members == ["File:One.jpg"]
    assert len(peer.requests) == 3 and len(sleeps.delays) == 2
    assert all(delay >= 8 for delay in sleeps.delays)
    assert api.stats.retries == 2 and api.stats.errors == 2
    assert api.stats.last_error is not None and api.stats.last_error.startswith("maxlag")


async def test_maxlag_pauses_at_least_five_seconds(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps
) -> None:
    peer.fail_maxlag(times=1, lag=6, retry_after="1")

    await api.request(QUERY)

    assert len(sleeps.delays) == 1 and sleeps.delays[0] >= 5


async def test_old_style_maxlag_503_also_pauses_five_seconds(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps
) -> None:
    peer.fail_http(503, retry_after="1", lag=6.5)

    await api.request(QUERY)

    assert len(sleeps.delays) == 1 and sleeps.delays[0] >= 5
    assert api.stats.last_error is not None and api.stats.last_error.startswith("maxlag")


async def test_maxlag_only_hits_requests_that_ask_for_it(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps
) -> None:
    peer.fail_maxlag(times=1, lag=4)  # below our maxlag=5: a real wiki would answer

    await api.request(QUERY)

    assert sleeps.delays == [] and len(peer.requests) == 1


@pytest.mark.parametrize("status", [503, 429])
async def test_http_retry_after_seconds_is_honoured(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps, status: int
) -> None:
    peer.fail_http(status, times=2, retry_after="17")

    data = await api.request(QUERY)

    assert data["batchcomplete"] is True
    assert len(sleeps.delays) == 2 and all(17 <= d < 19 for d in sleeps.delays)


async def test_http_retry_after_date_is_honoured(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=40)
    peer.fail_http(503, retry_after=format_datetime(when, usegmt=True))

    await api.request(QUERY)

    assert len(sleeps.delays) == 1 and 30 < sleeps.delays[0] < 42


async def test_5xx_without_retry_after_backs_off_exponentially(
    peer: ActionApiPeer, sleeps: RecordedSleeps
) -> None:
    peer.fail_http(502, times=4)
    async with ActionApi(peer.url, USER_AGENT, sleep=sleeps, backoff_base=1.0) as api:
        await api.request(QUERY)
    assert len(sleeps.delays) == 4
    for n, delay in enumerate(sleeps.delays):
        assert 2**n / 2 <= delay <= 2**n  # half fixed, half jitter


async def test_retries_are_capped_with_a_clear_error(peer: ActionApiPeer, sleeps: RecordedSleeps) -> None:
    peer.fail_http(503, times=10, retry_after="2")
    async with ActionApi(peer.url, USER_AGENT, max_retries=3, sleep=sleeps) as api:
        with pytest.raises(ApiError) as caught:
            await api.request(QUERY)
    assert caught.value.code == "http-503" and caught.value.http_status == 503
    assert "3 retries" in caught.value.info
    assert len(peer.requests) == 4 and len(sleeps.delays) == 3
    assert api.stats.errors == 4 and api.stats.retries == 3


async def test_maxlag_retries_are_capped_too(peer: ActionApiPeer, sleeps: RecordedSleeps) -> None:
    peer.fail_maxlag(times=10, lag=30)
    async with ActionApi(peer.url, USER_AGENT, max_retries=2, sleep=sleeps) as api:
        with pytest.raises(ApiError) as caught:
            await api.request(QUERY)
    assert caught.value.code == "maxlag" and "30 seconds lagged" in caught.value.info
    assert len(peer.requests) == 3


async def test_api_errors_raise_at_once(peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps) -> None:
    peer.fail_error("readonly", "The wiki is currently in read-only mode.")
    with pytest.raises(ApiError) as caught:
        await api.request(QUERY)
    assert caught.value.code == "readonly" and "read-only" in caught.value.info
    with pytest.raises(ApiError) as bad:
        await api.request({"action": "query", "list": "nonsense"})
    assert bad.value.code == "badvalue" and bad.value.http_status == 200
    assert len(peer.requests) == 2 and sleeps.delays == []
    assert api.stats.errors == 2 and api.stats.last_error is not None and "badvalue" in api.stats.last_error


async def test_too_many_values_is_an_api_error(peer: ActionApiPeer, api: ActionApi) -> None:
    with pytest.raises(ApiError) as caught:
        await api.request(
            {"action": "query", "prop": "revisions", "revids": "|".join(map(str, range(1, 52)))}
        )
    assert caught.value.code == "toomanyvalues" and "The limit is 50" in caught.value.info


@pytest.mark.parametrize("code", ["ratelimited", "apierror-concurrency-limit"])
async def test_rate_limit_errors_back_off(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps, code: str
) -> None:
    peer.fail_error(code, "Please wait for each request to return before submitting the next.", times=2)

    await api.request(QUERY)

    assert len(sleeps.delays) == 2 and len(peer.requests) == 3


async def test_dropped_connections_are_retried(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps
) -> None:
    peer.fail_drop(times=3)  # aiohttp itself resends a GET once on a dropped connection; the rest is ours

    data = await api.request(QUERY)

    assert data["query"] == {"categorymembers": []}
    assert len(peer.requests) == 4 and len(sleeps.delays) >= 1
    assert api.stats.last_error is not None and api.stats.last_error.startswith("network")


async def test_malformed_bodies_are_retried(
    peer: ActionApiPeer, api: ActionApi, sleeps: RecordedSleeps
) -> None:
    peer.fail_malformed(times=2)

    data = await api.request(QUERY)

    assert data["query"] == {"categorymembers": []}
    assert len(peer.requests) == 3 and len(sleeps.delays) == 2
    assert api.stats.retries == 2 and api.stats.errors == 2 and api.stats.requests == 3
    assert api.stats.last_error is not None and api.stats.last_error.startswith("badjson")
    assert api.stats.total_latency > 0 and api.stats.mean_latency > 0
    assert api.stats.as_dict()["requests"] == 3


async def test_unreachable_server_gives_a_network_error(sleeps: RecordedSleeps) -> None:
    async with ActionApiPeer() as gone:
        url = gone.url
    async with ActionApi(url, USER_AGENT, max_retries=1, sleep=sleeps, timeout=5) as api:
        with pytest.raises(ApiError) as caught:
            await api.request(QUERY)
    assert caught.value.code == "network" and caught.value.http_status is None
    assert len(sleeps.delays) == 1


async def test_continuation_merges_every_key_into_the_original_request(
    peer: ActionApiPeer, api: ActionApi
) -> None:
    peer.max_limit = 2
    for n in range(5):
        peer.add_page(f"File:F{n}.jpg", "[[Category:Museum]]")

    pages = [page async for page in api.query_continue({**QUERY, "cmlimit": "max", "cmprop": "title"})]

    assert [len(p["query"]["categorymembers"]) for p in pages] == [2, 2, 1]
    sent = peer.requests_with(list="categorymembers")
    assert sent[1].params["cmcontinue"] == pages[0]["continue"]["cmcontinue"]
    assert sent[1].params["continue"] == pages[0]["continue"]["continue"]
    assert sent[2].params["cmcontinue"] == pages[1]["continue"]["cmcontinue"]
    assert all(s.params["cmtitle"] == "Category:Museum" and s.params["cmprop"] == "title" for s in sent)


def test_parse_retry_after() -> None:
    now = datetime(2026, 3, 3, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("Tue, 03 Mar 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Tue, 03 Mar 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("9999999") == 900.0  # a broken proxy cannot wedge the daemon
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
