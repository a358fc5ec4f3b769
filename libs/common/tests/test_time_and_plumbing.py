"""Timestamps, ages, running blocking calls and stored responses: the small shared helpers."""

from __future__ import annotations

import contextvars
import dataclasses
import threading
from datetime import UTC, date, datetime, timedelta, timezone

import anyio
import pytest
from bnpl_common.aio import run_blocking
from bnpl_common.dates import age_on
from bnpl_common.idempotency import StoredResponse
from bnpl_common.timefmt import epoch_micros, format_instant, from_epoch_micros, parse_instant

NOON = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def test_one_format_utc_microseconds_z() -> None:
    assert format_instant(NOON) == "2026-03-15T12:00:00.000000Z"
    paris = datetime(2026, 3, 15, 13, 0, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    assert format_instant(paris) == "2026-03-15T12:00:00.000005Z"
    with pytest.raises(ValueError):
        format_instant(datetime(2026, 3, 15, 12, 0))


def test_formatted_instants_sort_as_text_in_time_order() -> None:
    moments = [NOON + timedelta(microseconds=n) for n in (0, 1, 999_999, 1_000_000)] + [NOON - timedelta(days=400)]
    texts = [format_instant(m) for m in moments]
    assert sorted(texts) == [format_instant(m) for m in sorted(moments)]


@pytest.mark.parametrize(
    "stored",
    [
        "2026-03-15T12:00:00.000000Z",  # this format
        "2026-03-15T12:00:00+00:00",  # what the user service stored before (isoformat())
        "2026-03-15T12:00:00.000000+00:00",
        "2026-03-15T13:00:00+01:00",  # any offset is converted
    ],
)
def test_what_was_stored_before_stays_readable(stored: str) -> None:
    parsed = parse_instant(stored)
    assert parsed == NOON and parsed.tzinfo == UTC
    assert parse_instant(format_instant(parsed)) == parsed


def test_a_timestamp_without_timezone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        parse_instant("2026-03-15T12:00:00")
    with pytest.raises(ValueError):
        parse_instant("yesterday")


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(2008, 3, 16), date(2026, 3, 15), 17),
        (date(2008, 3, 15), date(2026, 3, 15), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2026, 3, 15), date(2026, 3, 15), 0),
    ],
)
def test_age_in_completed_years(born: date, today: date, age: int) -> None:
    assert age_on(born, today) == age


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def test_run_blocking_runs_in_a_worker_thread_with_the_callers_context() -> None:
    def blocking(a: int, *, b: int) -> tuple[int, str, bool]:
        return a + b, REQUEST_ID.get(), threading.current_thread() is threading.main_thread()

    async def main() -> tuple[int, str, bool]:
        REQUEST_ID.set("req-1")
        return await run_blocking(blocking, 2, b=3)

    assert anyio.run(main) == (5, "req-1", False)


def test_run_blocking_passes_errors_through() -> None:
    def fails() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        anyio.run(run_blocking, fails)


def test_stored_response_is_a_frozen_value() -> None:
    response = StoredResponse("fp", 201, {"id": "a"})
    assert response == StoredResponse(fingerprint="fp", status_code=201, body={"id": "a"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        response.status_code = 200  # type: ignore[misc]  # the point: frozen


def test_epoch_micros_round_trip() -> None:
    moment = datetime(2026, 3, 15, 12, 0, 0, 123456, tzinfo=UTC)
    assert epoch_micros(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)) == 1_000_000
    assert from_epoch_micros(epoch_micros(moment)) == moment
    with pytest.raises(ValueError):
        epoch_micros(datetime(2026, 3, 15))


def test_server_processes_freeze_what_start_up_built_and_collect_less_often(monkeypatch) -> None:
    """``serve`` marks the process a server; its apps then tune the collector once started
    (``bnpl_common.app.tune_gc``). Apps started by tests are left alone, and ``GC_TUNING=off``
    keeps CPython's defaults."""
    import gc

    from bnpl_common.app import GC_YOUNG_THRESHOLD, install_common
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    defaults = gc.get_threshold()

    def started(env: dict[str, str]) -> tuple[int, int]:
        for name in ("BNPL_SERVING", "GC_TUNING"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        app = FastAPI()
        install_common(app)
        try:
            with TestClient(app) as client:
                assert client.get("/livez").status_code == 200
                return gc.get_freeze_count(), gc.get_threshold()[0]
        finally:
            gc.unfreeze()
            gc.set_threshold(*defaults)

    frozen, young = started({"BNPL_SERVING": "1"})
    assert frozen > 1000 and young == GC_YOUNG_THRESHOLD
    assert started({}) == (0, defaults[0])  # not a server process: a test's app
    assert started({"BNPL_SERVING": "1", "GC_TUNING": "off"}) == (0, defaults[0])
