"""The real repositories, on the moto table the `aws` fixture builds from template.yaml."""

import pytest

from ridecast.domain.ports import Stores
from tests.unit.conftest import AwsStack


@pytest.fixture
def stores(aws: AwsStack) -> Stores:
    from ridecast.wiring import stores

    return stores()
