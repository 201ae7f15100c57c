"""The project's own template.yaml must stay runnable locally: every construct it uses is one the local
stack understands. Cheap (no moto): this is the early warning when the two drift apart."""

from pathlib import Path

import pytest

from local_stack import sam
from local_stack.lambdas import merged_environment
from local_stack.template import Template

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"

pytestmark = pytest.mark.skipif(not TEMPLATE.exists(), reason="template.yaml not written yet")

LOCAL = {
    "Stage": "local",
    "PublicBaseUrl": "http://127.0.0.1:3000",
    "TwilioApiBaseUrl": "http://127.0.0.1:3000/_local/twilio",
    "TelegramApiBaseUrl": "http://127.0.0.1:3000/_local/telegram",
}


@pytest.fixture(scope="module")
def template():
    return Template(TEMPLATE, LOCAL)


def test_every_function_has_its_handler_file(template):
    functions = sam.read_functions(template)
    assert functions
    for function in functions:
        module = function.handler.rpartition(".")[0].replace(".", "/")
        assert (function.code_dir / f"{module}.py").is_file(), function.logical_id
        assert all(layer.is_dir() for layer in function.layer_dirs), function.logical_id


def test_functions_can_share_one_process(template):
    merged_environment(sam.read_functions(template))  # raises on a disagreement


def test_every_route_reaches_a_function_and_a_known_authorizer(template):
    api = sam.read_http_api(template)
    functions = {f.logical_id for f in sam.read_functions(template)}
    assert api.routes
    for route in api.routes:
        assert route.function_id in functions
        assert route.authorizer is None or route.authorizer in api.authorizers
    for authorizer in api.authorizers.values():
        assert authorizer.function_id in functions


def test_state_machines_have_every_substitution(template):
    for machine in sam.read_state_machines(template):
        assert "${" not in machine.definition


def test_schedules_and_data_resources_are_readable(template):
    sam.read_schedules(template)
    sam.read_tables(template)
    sam.read_secrets(template, {"RootKeySecret": "local-root-key"})
    sam.read_topics(template)
