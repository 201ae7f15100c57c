"""The real ports, built once per Lambda container: handlers pass `ports()` (or `stores()`) to the domain.

Building them creates no boto3 client: each repository and adapter makes its client on first use.
Passing each class where its Protocol is declared is also what makes mypy check that it implements it.
"""

from functools import lru_cache

from ridecast.adapters.alerts import SnsAlerts
from ridecast.adapters.channels.providers import ProviderChannels
from ridecast.adapters.idempotency import PowertoolsIdempotency
from ridecast.adapters.jobs import LambdaJobs
from ridecast.adapters.ride_events import PublishingRideStore
from ridecast.adapters.secrets import SecretsManagerSecrets
from ridecast.adapters.stepfunctions import StepFunctionsMatching
from ridecast.domain.ports import Ports, Stores
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


@lru_cache(maxsize=1)
def stores() -> Stores:
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
    return Ports(
        stores=stores(),
        matching=StepFunctionsMatching(),
        secrets=SecretsManagerSecrets(),
        alerts=SnsAlerts(),
        channels=ProviderChannels(),
        idempotency=PowertoolsIdempotency(),
        jobs=LambdaJobs(),
    )
