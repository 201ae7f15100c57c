"""GET /stats as API Gateway calls it (moto behind): admins only, a period checked, every §6 field answered."""

from typing import Any

import pytest

from tests.fixtures import invoke, json_body, load_event, with_principal, with_query
from tests.unit.conftest import fleet_principal

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _stats(fleet_id: str, role: str = "admin", **query: str) -> dict[str, Any]:
    event = with_principal(load_event("stats/get_stats.json"), fleet_principal(fleet_id, role))
    return invoke("stats", with_query(event, **query))


def test_an_admin_gets_every_figure_of_a_quiet_period(fleet: Any) -> None:
    # Given a fleet without rides, When its admin asks for the default period (the last 24 h)
    response = _stats(fleet.fleet_id)
    # Then every SPEC §6 field is there, counted at zero
    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    assert body["rides"] == {
        "total": 0,
        "by_status": {"scheduled": 0, "searching": 0, "assigned": 0, "timed_out": 0, "cancelled": 0, "failed": 0},
    }
    assert body["time_to_match_seconds"] == {"mean": None, "p50": None, "p95": None}
    assert set(body["channels"]) == {"telegram", "sms", "whatsapp", "email"}
    assert body["channels"]["sms"]["attempts"] == 0
    assert (body["active_matchings"], body["drivers"]) == (0, [])


def test_a_dispatcher_may_not_read_stats(fleet: Any) -> None:
    assert _stats(fleet.fleet_id, role="dispatcher")["statusCode"] == 403


@pytest.mark.parametrize(
    "query",
    [
        {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
        {"since": "2025-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "yesterday"},
    ],
)
def test_a_backwards_overlong_or_unreadable_period_is_422(fleet: Any, query: dict[str, str]) -> None:
    assert _stats(fleet.fleet_id, **query)["statusCode"] == 422
