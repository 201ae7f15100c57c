"""The real ports, built once per Lambda container: handlers pass `ports()` (or `stores()`) to the domain.

This is the one place that reaches the AWS side, and it does so on first use: the repositories and
adapters (and with them boto3, ~270 ms to import) are imported when `stores()` or `ports()` is first
called, not when a handler module is, so a cold start pays only for what the handler imports itself
(SPEC §7) and a route that never touches AWS never imports boto3. Building them creates no boto3
client either: each repository and adapter makes its client on first use.
Under SnapStart (and provisioned concurrency) init runs once ahead of any caller and is snapshotted, so
there the ports are built during init instead: the snapshot holds boto3 and the adapters already imported,
and no restored copy pays for them. Still no client, connection or secret exists at that point, so nothing
that must differ between restored copies is in the snapshot (no after-restore hook is needed).
Passing each class where its Protocol is declared is also what makes mypy check that it implements it.
"""

import os
from functools import lru_cache

from ridecast.domain.ports import Ports, Stores


@lru_cache(maxsize=1)
def stores() -> Stores:
    from ridecast.adapters.ride_events import PublishingRideStore
    from ridecast.repositories.api_keys import DynamoApiKeyStore
    from ridecast.repositories.channel_health import DynamoChannelHealthStore
    from ridecast.repositories.deliveries import DynamoDeliveryLog
    from ridecast.repositories.driver_phones import DynamoDriverPhoneIndex
    from ridecast.repositories.drivers import DynamoDriverStore
    from ridecast.repositories.fleets import DynamoFleetStore
    from ridecast.repositories.offers import DynamoOfferStore
    from ridecast.repositories.platform_chats import DynamoPlatformChatIndex
    from ridecast.repositories.rate_limits import DynamoRateLimitStore
    from ridecast.repositories.registrations import DynamoRegistrationStore
    from ridecast.repositories.senders import DynamoSenderStore
    from ridecast.repositories.stats import DynamoStatsStore

    return Stores(
        fleets=DynamoFleetStore(),
        api_keys=DynamoApiKeyStore(),
        drivers=DynamoDriverStore(),
        rides=PublishingRideStore(),  # every recorded transition is a ride event (SPEC §10)
        offers=DynamoOfferStore(),
        senders=DynamoSenderStore(),
        registrations=DynamoRegistrationStore(),
        deliveries=DynamoDeliveryLog(),
        rate_limits=DynamoRateLimitStore(),
        stats=DynamoStatsStore(),
        channel_health=DynamoChannelHealthStore(),
        driver_phones=DynamoDriverPhoneIndex(),
        platform_chats=DynamoPlatformChatIndex(),
    )


@lru_cache(maxsize=1)
def ports() -> Ports:
    from ridecast.adapters.alerts import SnsAlerts
    from ridecast.adapters.channels.providers import ProviderChannels
    from ridecast.adapters.idempotency import PowertoolsIdempotency
    from ridecast.adapters.jobs import LambdaJobs
    from ridecast.adapters.secrets import SecretsManagerSecrets
    from ridecast.adapters.stepfunctions import StepFunctionsMatching

    return Ports(
        stores=stores(),
        matching=StepFunctionsMatching(),
        secrets=SecretsManagerSecrets(),
        alerts=SnsAlerts(),
        channels=ProviderChannels(),
        idempotency=PowertoolsIdempotency(),
        jobs=LambdaJobs(),
    )


def build_loaded_models() -> None:
    """Build now the validators of every Ridecast model imported so far. They are deferred to first use
    (`DomainModel`'s defer_build) so that an on-demand cold start builds only those it uses; a snapshot
    should hold them all."""
    from pydantic import BaseModel

    unvisited: list[type[BaseModel]] = [BaseModel]
    while unvisited:
        model = unvisited.pop()
        unvisited.extend(model.__subclasses__())
        if model.__module__.startswith("ridecast.") and not model.__pydantic_complete__:
            model.model_rebuild()


# AWS_LAMBDA_INITIALIZATION_TYPE is set by Lambda: on-demand, provisioned-concurrency or snap-start.
INITIALISED_AHEAD_OF_CALLERS = {"snap-start", "provisioned-concurrency"}
if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in INITIALISED_AHEAD_OF_CALLERS:
    ports()
    build_loaded_models()
