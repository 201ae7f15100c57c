"""DynamoDeliveryLog: each webhook delivery is processed once, unless its processing failed."""

from datetime import timedelta

from ridecast.domain.ports import Stores
from tests.unit.repositories.builders import NOW


def test_a_delivery_is_claimed_once_until_released(stores: Stores) -> None:
    expires = NOW + timedelta(days=1)
    # Given a delivery processed once
    assert stores.deliveries.claim("telegram", "42", expires) is True
    # When the provider replays it, Then it is a replay; the same id from another source is not
    assert stores.deliveries.claim("telegram", "42", expires) is False
    assert stores.deliveries.claim("twilio", "42", expires) is True
    # And a delivery whose processing failed is released so the provider's retry is processed
    stores.deliveries.release("telegram", "42")
    assert stores.deliveries.claim("telegram", "42", expires) is True
