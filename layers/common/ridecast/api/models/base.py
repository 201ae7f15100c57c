"""The HTTP API's model bases: strict request bodies, response bodies, dates, PATCH semantics.

Requests are strict (SPEC §3 "Strictness"): a number is a JSON number, a boolean a JSON boolean; `"30"` or
`true` where a number belongs is refused, not coerced. Powertools validates the parsed body in pydantic's
Python mode, where strict would also refuse ISO date strings, so date fields opt out of it one by one.
"""

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ridecast.domain.entities import (
    AdminContact,
    Customer,
    FleetSettings,
    GeoPoint,
    MatchingOptions,
    Place,
    TwilioSender,
    Vehicle,
)

MASK = "********"


# defer_build: see ridecast.domain.entities.DomainModel.
STRICT_INPUT = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True, defer_build=True)


class ApiInput(BaseModel):
    model_config = STRICT_INPUT


# A date and time is an ISO 8601 string (a bare date is its midnight) or, from Python callers, a datetime;
# never a number of seconds. Strict mode would refuse the string too (Powertools validates parsed JSON).
ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$")


def _iso_date_time(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_DATE_TIME.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date and time, e.g. 2026-03-14T09:30:00Z")


IsoDateTime = Annotated[datetime, Field(strict=False), BeforeValidator(_iso_date_time)]


class DomainValueInput(BaseModel):
    """A domain value object as part of a request: the same fields and rules, strict like every request.
    The subclasses are subclasses of the domain's own, so the domain takes them where it takes its own."""

    model_config = ConfigDict(defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _domain_value_as_fields(cls, value: Any) -> Any:
        # Python callers (the local seed, tests) may hand over the domain's own, already valid, value.
        if isinstance(value, BaseModel) and not isinstance(value, cls):
            return value.model_dump(by_alias=True)
        return value


class CustomerInput(Customer, DomainValueInput):
    model_config = STRICT_INPUT


class PlaceInput(Place, DomainValueInput):
    model_config = STRICT_INPUT


class VehicleInput(Vehicle, DomainValueInput):
    model_config = STRICT_INPUT


class GeoPointInput(GeoPoint, DomainValueInput):
    model_config = STRICT_INPUT


DriverId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# A fleet's whole roster could be left out, but a list past this is a mistake, not a dispatch decision.
MAX_EXCLUDED_DRIVERS = 1000


class MatchingOptionsInput(MatchingOptions, DomainValueInput):
    model_config = STRICT_INPUT

    exclude_driver_ids: list[DriverId] = Field(default_factory=list, max_length=MAX_EXCLUDED_DRIVERS)


class AdminContactInput(AdminContact, DomainValueInput):
    model_config = STRICT_INPUT


class FleetSettingsInput(FleetSettings, DomainValueInput):
    model_config = STRICT_INPUT


class TwilioSenderInput(TwilioSender, DomainValueInput):
    model_config = ConfigDict(**STRICT_INPUT, populate_by_name=True)


class ApiOutput(BaseModel):
    # Serialised by alias: a Twilio sender is `from` on the wire, never `from_`.
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True, defer_build=True)


def _describe_patch(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The document says what PatchRequest enforces: no null for these fields, at least one field."""
    for name in getattr(model, "cannot_be_null", ()):
        field = schema["properties"][name]
        field.pop("default", None)
        options = [option for option in field.pop("anyOf", [field.copy()]) if option != {"type": "null"}]
        if len(options) == 1:
            field.update(options[0])
        else:
            field["anyOf"] = options
    if getattr(model, "at_least_one_field", False):
        schema["minProperties"] = 1


class PatchRequest(ApiInput):
    """A PATCH body: a field left out stays as it is. Null would mean "clear it", which the fields in
    `cannot_be_null` cannot be: refused with a message (not a type error), and not nullable in the document."""

    model_config = ConfigDict(**STRICT_INPUT, json_schema_extra=_describe_patch)
    cannot_be_null: ClassVar[tuple[str, ...]] = ()
    at_least_one_field: ClassVar[bool] = False

    @model_validator(mode="after")
    def _what_a_patch_may_not_do(self) -> Self:
        if self.at_least_one_field and not self.model_fields_set:
            raise ValueError("nothing to update: send at least one field")
        for field in self.cannot_be_null:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self
