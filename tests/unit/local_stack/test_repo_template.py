"""The project's own template.yaml must stay runnable locally, and what the local stack reads from it must be
what the template says. Cheap (no moto): the early warning when the two drift apart."""

import ast
import json
import re
from pathlib import Path

import pytest

from local_stack.lambdas import merged_environment
from local_stack.template import LocalTemplate
from tests.fixtures import load_template

REPO = Path(__file__).resolve().parents[3]
BASE = "http://127.0.0.1:3000"
LOCAL = {"Stage": "local", "PublicBaseUrl": BASE, "TelegramApiBaseUrl": f"{BASE}/_local/telegram"}


@pytest.fixture(scope="module")
def template():
    return LocalTemplate(REPO / "template.yaml", LOCAL)


def raw_http_events():
    """(METHOD, path) → Auth of every HttpApi event, straight from the YAML."""
    return {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"]): event["Properties"].get("Auth")
        for resource in load_template()["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in (resource["Properties"].get("Events") or {}).values()
        if event["Type"] == "HttpApi"
    }


def test_every_function_has_its_handler_file_and_function(template):
    # Given every function of template.yaml
    functions = template.functions()
    assert len(functions) == len(template.resources_of("AWS::Serverless::Function")) > 0
    for function in functions:
        # Then its Handler names a module in its CodeUri that defines that function, and its layers exist
        module, _, name = function.handler.rpartition(".")
        source = function.code_dir / f"{module.replace('.', '/')}.py"
        tree = ast.parse(source.read_text()).body
        # A handler is a def, or a module-level name bound to one (`lambda_handler = http_handler(app)`).
        defined = {node.name for node in tree if isinstance(node, ast.FunctionDef)} | {
            target.id
            for node in tree
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert name in defined, function.logical_id
        assert function.layer_dirs, function.logical_id
        assert all((layer / "ridecast").is_dir() for layer in function.layer_dirs), function.logical_id


def test_functions_share_one_process_and_point_at_the_stacks_own_resources(template):
    # When every function's environment is merged (a disagreement raises)
    shared = merged_environment(template.functions())
    # Then the variables name the resources the local stack creates, and the local parameter values
    assert shared["TABLE_NAME"] == template.ref("RidecastTable")
    assert shared["STATE_MACHINE_ARN"] == template.ref("MatchingStateMachine")
    assert shared["ALERTS_TOPIC_ARN"] == template.ref("AlertsTopic")
    assert shared["ROOT_KEY_SECRET_ARN"] == template.ref("RootKeySecret")
    assert (shared["STAGE"], shared["PUBLIC_BASE_URL"]) == ("local", BASE)
    assert shared["TELEGRAM_API_BASE_URL"] == f"{BASE}/_local/telegram"
    assert not any("${" in value or "Fn::" in value for value in shared.values())


def test_every_route_of_the_yaml_is_served_with_its_authorizer(template):
    # Given the HttpApi events as written in template.yaml
    written = raw_http_events()
    # When aws-sam-cli reads the routes
    routes = {(route.method, route.path): route for route in template.routes()}
    # Then no route is lost or invented, each reaches a function with a handler...
    assert set(routes) == set(written)
    functions = {function.logical_id for function in template.functions()}
    assert {route.function_id for route in routes.values()} <= functions
    # ...and exactly the routes marked `Authorizer: NONE` are public; the others go through the API key authorizer
    public = {key for key, auth in written.items() if (auth or {}).get("Authorizer") == "NONE"}
    assert {key for key, route in routes.items() if route.authorizer is None} == public
    guarded = [route.authorizer for route in routes.values() if route.authorizer is not None]
    assert guarded
    assert {(a.name, a.function_id, a.ttl_seconds) for a in guarded} == {("ApiKeyAuthorizer", "AuthorizerFunction", 3)}
    assert {a.sam.type for a in guarded} == {"request"}


def test_the_state_machine_calls_only_functions_of_the_template(template):
    # When the state machine definition gets its DefinitionSubstitutions
    (machine,) = template.state_machines()
    # Then nothing is left to substitute and every Lambda it calls is a function the stack serves
    assert "${" not in machine.definition
    called = set(re.findall(r"arn:aws:lambda:[^\"]+:function:[A-Za-z0-9_-]+", machine.definition))
    assert called
    assert called <= {function.arn for function in template.functions()}
    assert json.loads(machine.definition)["StartAt"]


def test_schedules_and_data_resources_are_read(template):
    # The sweeper ticks every minute, and the table is created with its keys, both GSIs and its TTL
    assert [(s.name, s.period_seconds) for s in template.schedules()] == [
        ("ChannelProbeFunction.EveryMinute", 60),
        ("SweeperFunction.EveryMinute", 60),
        ("DailyReportFunction.Hourly", 3600),
    ]
    kwargs, ttl_attribute = template.table_create_kwargs("RidecastTable")
    assert kwargs["TableName"] == template.ref("RidecastTable")
    assert [index["IndexName"] for index in kwargs["GlobalSecondaryIndexes"]] == ["GSI1", "GSI2"]
    assert ttl_attribute == "expires_at"
    assert list(template.resources_of("AWS::SecretsManager::Secret")) == ["RootKeySecret"]
    assert list(template.resources_of("AWS::SNS::Topic")) == ["AlertsTopic"]


def test_a_revoked_key_stops_working_within_five_seconds(template) -> None:
    # SPEC §11: handlers trust the authorizer's answer, so API Gateway may cache it no longer than that.
    ttls = {route.authorizer.ttl_seconds for route in template.routes() if route.authorizer is not None}
    assert ttls
    assert max(ttls) <= 5
