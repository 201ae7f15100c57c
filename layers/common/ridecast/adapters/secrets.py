"""Fleet credentials and the platform root key, in Secrets Manager, read through Powertools Parameters.

One secret per fleet (`<prefix>/<fleet_id>`) holds a JSON object of that fleet's channel secrets, so a
fleet's keys never sit in the table and a fleet's rotation touches nothing else.
"""

import json
import threading
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from ridecast.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


@lru_cache(maxsize=1)
def _client() -> "SecretsManagerClient":
    return boto3.client("secretsmanager")


_provider_lock = threading.Lock()


def _parameters() -> ModuleType:
    """Powertools Parameters, its secrets provider made once under a lock: Powertools makes it (a boto3 session
    and client, ~50 ms of CPU) in whichever call finds none, so invocations sharing a process (the local stack)
    that start together would each make one."""
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    with _provider_lock:
        if "secrets" not in DEFAULT_PROVIDERS:
            DEFAULT_PROVIDERS["secrets"] = parameters.SecretsProvider(boto3_client=_client())
    return parameters


def _json_secret(name: str) -> dict[str, str]:
    """A JSON secret's fields as text, through Powertools' cache; {} while the secret does not exist."""
    parameters = _parameters()
    try:
        value: Any = parameters.get_secret(name, transform="json", max_age=get_settings().secrets_cache_seconds)
    except parameters.exceptions.GetParameterError:
        return {}
    return {str(k): str(v) for k, v in (value or {}).items()}


def _secret_name(fleet_id: str) -> str:
    return f"{get_settings().fleet_secrets_prefix}/{fleet_id}"


class SecretsManagerSecrets:
    def fleet_secrets(self, fleet_id: str) -> dict[str, str]:
        return _json_secret(_secret_name(fleet_id))

    def save_fleet_secrets(self, fleet_id: str, values: dict[str, str]) -> None:
        """Merge `values` into the fleet's secret, creating it on first use."""
        from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

        name = _secret_name(fleet_id)
        try:
            current = json.loads(_client().get_secret_value(SecretId=name)["SecretString"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            _client().create_secret(Name=name, SecretString=json.dumps(values))
        else:
            _client().put_secret_value(SecretId=name, SecretString=json.dumps({**current, **values}))
        # The values only: the provider and its client stay for the next read (clear_caches would drop them).
        for provider in DEFAULT_PROVIDERS.values():
            provider.clear_cache()

    def platform_secrets(self) -> dict[str, str]:
        name = get_settings().platform_channels_secret_name
        return _json_secret(name) if name else {}

    def root_key(self) -> str:
        parameters = _parameters()
        arn = get_settings().root_key_secret_arn
        if not arn:
            return ""
        value = parameters.get_secret(arn, max_age=get_settings().secrets_cache_seconds)
        return str(value or "")
