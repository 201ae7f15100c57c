"""A DynamoDB client whose item attributes cross the wire as DynamoDB's own JSON, walked once, not three times.

botocore serializes every request and parses every answer by walking them through the API model, attribute value
by attribute value, though for DynamoDB's JSON protocol that walk changes nothing but binary values (base64).
For items typed already (`table.typed`, boto3's TypeSerializer) and answers read by boto3's TypeDeserializer, the
walk was pure cost: in a 1,000-driver broadcast, botocore's serializer alone spent 0.11 ms of CPU per offer
written and its parser 0.05 ms per driver read. The client made here hands attribute values through as they are;
everything around them (table names, keys of the call, errors, metadata) still goes botocore's way.

Exact, not approximate: an answer whose body may hold a binary value is parsed the model's way (a cheap
substring check on the raw body), and a request with one fails loudly (json cannot encode bytes);
Ridecast stores no binary attributes.
"""

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.parsers import JSONParser, ResponseParser, ResponseParserFactory
from botocore.serialize import JSONSerializer

if TYPE_CHECKING:
    from botocore.model import Shape
    from mypy_boto3_dynamodb.client import DynamoDBClient

ATTRIBUTE_VALUE = "AttributeValue"  # the API model's shape of one typed value ({"S": ...}, {"M": {...}}, ...)
# A binary value is the only one whose wire form differs from what the caller gets ("B" and "BS" are base64).
BINARY_MARKERS = (b'"B"', b'"BS"')


# The hooks overridden below are botocore's private methods (its type stubs do not list them).
class AttributeValuesAsTheyAre(JSONSerializer):
    def _serialize(self, serialized: Any, value: Any, shape: "Shape", key: str | None = None) -> None:
        if _only_attribute_values(shape):
            serialized[key] = value
        else:
            super()._serialize(serialized, value, shape, key)  # type: ignore[misc]


class AttributeValuesAsAnswered(JSONParser):
    def _handle_json_body(self, raw_body: bytes, shape: "Shape") -> Any:
        if any(marker in raw_body for marker in BINARY_MARKERS):
            return JSONParser()._handle_json_body(raw_body, shape)  # type: ignore[attr-defined]
        return super()._handle_json_body(raw_body, shape)  # type: ignore[misc]

    def _parse_shape(self, shape: "Shape", node: Any) -> Any:
        return node if _only_attribute_values(shape) else super()._parse_shape(shape, node)  # type: ignore[misc]


class AnswersParsedAsAnswered(ResponseParserFactory):
    """botocore's endpoint makes a parser for every answer from its factory (the parser a client holds is never
    used): JSON answers get AttributeValuesAsAnswered."""

    def create_parser(self, protocol_name: str) -> ResponseParser:
        if protocol_name == "json":
            return AttributeValuesAsAnswered()
        return super().create_parser(protocol_name)


def _only_attribute_values(shape: "Shape") -> bool:
    """An attribute value, or a map of them (an item, a key): handed through whole, not value by value."""
    return shape.name == ATTRIBUTE_VALUE or (shape.type_name == "map" and shape.value.name == ATTRIBUTE_VALUE)  # type: ignore[attr-defined]


def wire_client() -> "DynamoDBClient":
    """A new low-level client that takes typed attribute values and answers with them as DynamoDB sent them.

    botocore has no public way to choose a client's serializer or parsers, so they are set on this one client
    (botocore is pinned; tests compare bodies and answers with botocore's own). Should botocore ever speak
    another protocol to DynamoDB, the client is left as botocore made it: slower, never wrong."""
    client = boto3.client("dynamodb", config=Config(parameter_validation=False))
    endpoint = client._endpoint  # type: ignore[attr-defined]
    serializer, parsers = client._serializer, endpoint._response_parser_factory  # type: ignore[attr-defined]
    # Only the exact classes this was written against: a validating or other-protocol client is kept.
    if type(serializer) is JSONSerializer and type(parsers) is ResponseParserFactory:
        client._serializer = AttributeValuesAsTheyAre()  # type: ignore[attr-defined]
        endpoint._response_parser_factory = AnswersParsedAsAnswered()
    return client
