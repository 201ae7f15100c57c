"""The one place that builds Logger and Metrics, and masks personal data for logs.

No Powertools Tracer: it imports the X-Ray SDK and patches botocore and requests at import, which alone
costs 40-100 ms of every cold start (SPEC §7). The functions keep `Tracing: Active`, so X-Ray still
shows each invocation with its initialisation and duration from the Lambda service's own segments; what
is given up is the per-call subsegments (DynamoDB, Step Functions, providers) inside them.
"""

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

logger = Logger()
metrics = Metrics(namespace="Ridecast")


def count_by(name: str, dimension: str, value: str, count: int = 1) -> None:
    """A count with a dimension of its own (the alarms and the dashboard select on it); the function's
    other metrics keep only `service`."""
    with single_metric(name=name, unit=MetricUnit.Count, value=count, namespace="Ridecast") as metric:
        metric.add_dimension(name=dimension, value=value)


def mask_phone(phone: str | None) -> str:
    """Keep the country code and the last three digits: enough to tell drivers apart in logs."""
    if not phone:
        return ""
    digits = phone.removeprefix("whatsapp:")
    if len(digits) <= 6:
        return "***"
    return f"{digits[:3]}{'*' * (len(digits) - 6)}{digits[-3:]}"


def mask_email(address: str | None) -> str:
    """Keep the first character and the domain: enough to tell admins apart in logs."""
    if not address:
        return ""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_token(token: str | None) -> str:
    """Keep the first four characters: enough to match a log line to an offer, useless to accept it with."""
    if not token:
        return ""
    return f"{token[:4]}***"
