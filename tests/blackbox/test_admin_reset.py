"""State reset endpoints: tidemark's own and the moto-compatible one test suites already call."""

import pytest
import requests
from tm_helpers import HTTP_TIMEOUT


@pytest.mark.parametrize("path", ["/_tidemark/reset", "/moto-api/reset"])
def test_reset_answers_200(endpoint, ddb, path):
    """Both reset paths answer 200 and leave a working, empty server behind. Not an AWS
    behaviour: /moto-api/reset is the peer emulator's path, kept so suites written for
    moto can reset tidemark unchanged (tidemark admin API, DESIGN.md "Time is a dependency")."""
    resp = requests.post(endpoint + path, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200, resp.text
    assert ddb.list_tables()["TableNames"] == []


def test_health(endpoint):
    """/_tidemark/health answers 200 `{"status":"ok"}` once the server is ready (tidemark
    admin API; not an AWS behaviour)."""
    resp = requests.get(endpoint + "/_tidemark/health", timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}
