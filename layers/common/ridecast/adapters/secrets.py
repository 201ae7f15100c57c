"""Fleet credentials and the platform root key, in Secrets Manager, read through Powertools Parameters.

One secret per fleet (`<prefix>/<fleet_id>`) holds a JSON object of that fleet's channel secrets, so a
fleet's keys never sit in the table and a fleet's rotation touches nothing else.
"""

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import boto3
from botocore.exceptions import ClientError

from ridecast.settings import get_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_secretsmanager import SecretsManagerClient


@lru_cache(maxsize=1)
def _client() -> "SecretsManagerClient":
    return boto3.client("secretsmanager")


@lru_cache(maxsize=1)
def _provider() -> "SecretsProvider":
    """One provider on the one client for the container's life: Powertools' module-level `get_secret` keeps its
    default provider in a dict that `clear_caches()` empties, so every save cost a new boto3 client (~70 ms)
    on the next read; here a save forgets the cached values only."""
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=_client())


def _get_secret(name: str, transform: Literal["json"] | None = None) -> Any:
    return _provider().get(name, max_age=get_settings().secrets_cache_seconds, transform=transform)


def _secret_name(fleet_id: str) -> str:
    return f"{get_settings().fleet_secrets_prefix}/{fleet_id}"


class SecretsManagerSecrets:
    def fleet_secrets(self, fleet_id: str) -> dict[str, str]:
        from aws_lambda_powertools.utilities import parameters

        try:
            value = _get_secret(_secret_name(fleet_id), transform="json")
        except parameters.exceptions.GetParameterError:
            return {}
        return {str(k): str(v) for k, v in (value or {}).items()}

    def save_fleet_secrets(self, fleet_id: str, values: dict[str, str]) -> None:
        """Merge `values` into the fleet's secret, creating it on first use."""

        name = _secret_name(fleet_id)
        try:
            current = json.loads(_client().get_secret_value(SecretId=name)["SecretString"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            _client().create_secret(Name=name, SecretString=json.dumps(values))
        else:
            _client().put_secret_value(SecretId=name, SecretString=json.dumps({**current, **values}))
        _provider().clear_cache()  # type: ignore[no-untyped-call]

    def platform_secrets(self) -> dict[str, str]:
        from aws_lambda_powertools.utilities import parameters

        name = get_settings().platform_channels_secret_name
        if not name:
            return {}
        try:
            value = _get_secret(name, transform="json")
        except parameters.exceptions.GetParameterError:
            return {}
        return {str(k): str(v) for k, v in (value or {}).items()}

    def root_key(self) -> str:

        arn = get_settings().root_key_secret_arn
        if not arn:
            return ""
        value = _get_secret(arn)
        return str(value or "")
