"""What the bench's AWS emulator changes in moto beyond local_stack.moto_dynamodb's patches: its CPU only, never an
answer (tests compare them with moto's own). Bench-only: local_stack's 2,000-line budget has no room for them; they
would serve the local stack's moto unchanged (`install()` where local_stack.moto_dynamodb's patches are installed).

Requests: moto's parser walked botocore's API model for every value of every request (a handler looked up per value,
every member of a structure asked for: ten per attribute value), ~1.5 ms of CPU for a 25-item BatchWriteItem. Here
the same steps are looked up once per shape and kept as readers: the values, their order and the errors are moto's.
Sizes: moto sizes every attribute of an item it stores, and of each item a Query answers twice, through a chain of
type checks; text and numbers, nearly all of Ridecast's attributes, are measured first, as moto measures them."""

from collections.abc import Callable
from functools import partial
from typing import Any

from moto.core.parse import JSONParser
from moto.core.request import Request, determine_request_protocol
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler

Reader = Callable[[Any], Any]
# moto's readers of scalars and of a body as JSON, which do not depend on the operation the parser was made for
_JSON, _READERS = JSONParser(None), dict[str, Reader]()  # type: ignore[arg-type]
_moto_size = DynamoType.size


def _as_it_is(value: Any) -> Any:
    return value


def reader(shape: Any, readers: dict[str, Reader] = _READERS) -> Reader:
    """What moto's JSONParser does to a value of `shape`, in the same order, raising as it does."""
    if shape.name in readers:  # a structure being built (AttributeValue holds AttributeValues) or already built
        return readers[shape.name]
    if shape.type_name == "list":
        item = reader(shape.member, readers)
        return lambda node: [item(value) for value in node]
    if shape.type_name == "map":
        key, value = reader(shape.key, readers), reader(shape.value, readers)
        return lambda node: {key(k): value(v) for k, v in node.items()}
    if shape.type_name != "structure" or shape.is_document_type:
        own = getattr(_JSON, f"_parse_{shape.type_name}", None)  # blobs, timestamps and numbers; strings stay
        return partial(own, shape) if own else _as_it_is
    members: dict[str, tuple[str, Reader]] = {}  # by the name on the wire, in the model's order

    def structure(node: Any) -> Any:
        if node is None:
            return None
        if type(node) is dict and len(node) == 1:  # {"S": "…"}: one lookup, where moto's asks for every member
            [(wire_name, raw)] = node.items()
            member = members.get(wire_name) if raw is not None else None
            return {member[0]: member[1](raw)} if member else {}
        given = ((member, raw) for wire_name, member in members.items() if (raw := node.get(wire_name)) is not None)
        return {name: read(raw) for (name, read), raw in given}

    readers[shape.name] = structure
    for name, member in shape.members.items():
        members[member.serialization.get("name", name)] = (name, reader(member, readers))
    if len(members) != len(shape.members):  # moto would set both members; no DynamoDB shape has such a pair
        raise NotImplementedError(f"{shape.name}: two members share a name on the wire")
    return structure


def read_body(body: str | bytes) -> Any:
    """A request body as moto's parser takes it in: JSON, or moto's stand-in for text that is not JSON."""
    return _JSON._parse_body_as_json(body)  # type: ignore[no-untyped-call]


def parse_parameters(self: DynamoHandler, request: Request) -> None:
    """moto's BaseResponse.parse_parameters for DynamoDB, by readers built once per shape."""
    service_model = get_service_model(self.boto3_service_name)
    operation = service_model.operation_model(self._get_action())
    determine_request_protocol(service_model, request.content_type)  # JSON, or it raises as in moto's parse
    self.params = reader(operation.input_shape)(read_body(request.data))


def size(self: DynamoType) -> int:
    """moto's DynamoType.size: a number's text length, a text's UTF-8 length; other types as moto sizes them."""
    if self.type == "N":
        return len(str(self.value))
    if self.type == "S" and type(self.value) is str:
        return len(self.value.encode("utf-8"))
    return _moto_size(self)


def install() -> None:
    """Idempotent; applies to every moto DynamoDB handler and item of the process."""
    DynamoHandler.parse_parameters = parse_parameters  # type: ignore[method-assign,assignment]
    DynamoType.size = size  # type: ignore[method-assign]
