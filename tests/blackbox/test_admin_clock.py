"""The /_tidemark/clock admin API: the virtual clock tests use to fast-forward time."""

import datetime as dt
import time

import pytest
import requests
from tm_helpers import HTTP_TIMEOUT, parse_rfc3339, to_rfc3339

# Slack for wall time passing between two calls on a loaded CI machine.
SLACK = dt.timedelta(seconds=10)


def _get(endpoint: str) -> dict:
    resp = requests.get(endpoint + "/_tidemark/clock", timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _post(endpoint: str, body: dict) -> requests.Response:
    return requests.post(endpoint + "/_tidemark/clock", json=body, timeout=HTTP_TIMEOUT)


@pytest.fixture
def clock(endpoint):
    """Leaves the clock running after each test: reset is not promised to unfreeze it."""
    yield endpoint
    _post(endpoint, {"freeze": False})


def test_get_clock_shape(clock):
    """GET answers `{"now": RFC3339, "frozen": false}` on a fresh server
    (aws-behaviour.md §1.1 Clock: injectable clock so tests can fast-forward)."""
    state = _get(clock)
    assert set(state) == {"now", "frozen"}
    assert state["frozen"] is False
    parse_rfc3339(state["now"])


def test_advance_seconds(clock):
    """advance_seconds moves virtual time forward by that many seconds and answers the
    new clock state (aws-behaviour.md §1.1 Clock)."""
    before = parse_rfc3339(_get(clock)["now"])
    resp = _post(clock, {"advance_seconds": 3600})
    assert resp.status_code == 200, resp.text
    after = parse_rfc3339(resp.json()["now"])
    assert dt.timedelta(hours=1) <= after - before < dt.timedelta(hours=1) + SLACK
    assert parse_rfc3339(_get(clock)["now"]) >= after


def test_set_forward(clock):
    """set moves the clock to an absolute later instant (aws-behaviour.md §1.1 Clock)."""
    target = parse_rfc3339(_get(clock)["now"]) + dt.timedelta(days=3)
    target = target.replace(microsecond=0)
    resp = _post(clock, {"set": to_rfc3339(target)})
    assert resp.status_code == 200, resp.text
    now = parse_rfc3339(resp.json()["now"])
    assert target <= now < target + SLACK


def test_set_backwards_refused(clock):
    """Time never runs backwards (schedules and retention depend on it): set to the past
    → 400 with an `error` message, and the clock is unchanged."""
    before = parse_rfc3339(_get(clock)["now"])
    resp = _post(clock, {"set": to_rfc3339(before - dt.timedelta(days=1))})
    assert resp.status_code == 400
    assert resp.json()["error"]
    assert parse_rfc3339(_get(clock)["now"]) >= before


def test_negative_advance_refused(clock):
    """A negative advance is also a move backwards → 400."""
    before = parse_rfc3339(_get(clock)["now"])
    resp = _post(clock, {"advance_seconds": -60})
    assert resp.status_code == 400
    assert resp.json()["error"]
    assert parse_rfc3339(_get(clock)["now"]) >= before


def test_exactly_one_instruction(clock):
    """The body must hold exactly one of advance_seconds / set / freeze; two → 400."""
    resp = _post(clock, {"advance_seconds": 1, "freeze": True})
    assert resp.status_code == 400
    assert resp.json()["error"]
    assert _get(clock)["frozen"] is False


def test_freeze_and_unfreeze(clock):
    """A frozen clock stands still until unfrozen, then runs again from where it stood."""
    resp = _post(clock, {"freeze": True})
    assert resp.status_code == 200, resp.text
    frozen = resp.json()
    assert frozen["frozen"] is True
    time.sleep(1.1)
    assert _get(clock) == frozen

    resp = _post(clock, {"freeze": False})
    assert resp.status_code == 200, resp.text
    assert resp.json()["frozen"] is False
    time.sleep(1.1)
    running = _get(clock)
    assert running["frozen"] is False
    assert parse_rfc3339(running["now"]) > parse_rfc3339(frozen["now"])


def test_advance_while_frozen(clock):
    """Advancing a frozen clock moves it by exactly the amount and keeps it frozen."""
    frozen = _post(clock, {"freeze": True}).json()
    resp = _post(clock, {"advance_seconds": 90})
    assert resp.status_code == 200, resp.text
    state = resp.json()
    assert state["frozen"] is True
    delta = parse_rfc3339(state["now"]) - parse_rfc3339(frozen["now"])
    assert delta == dt.timedelta(seconds=90)
