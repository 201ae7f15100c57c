"""local_stack.template: template.yaml read by aws-sam-cli, plus the local physical names and moto reading."""

import pytest

from local_stack.lambdas import merged_environment
from local_stack.template import ACCOUNT_ID, REGION, LocalTemplate, TemplateError, schedule_period_seconds
from local_stack.template import substitute_definition as substitute


@pytest.fixture
def template(fixture_stack):
    return LocalTemplate(fixture_stack / "template.yaml", {"Stage": "local", "PublicBaseUrl": "http://127.0.0.1:9"})


def test_functions_get_globals_merged_with_their_own_environment(template, fixture_stack):
    # Given the fixture template, When its functions are read
    functions = {f.logical_id: f for f in template.functions()}
    # Then Globals and the function's own properties are merged and every intrinsic is resolved
    api = functions["ApiFunction"]
    assert api.code_dir == fixture_stack / "functions" / "api"
    assert api.handler == "app.handler"
    assert api.arn == f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ApiFunction"
    assert api.layer_dirs == (fixture_stack / "layers" / "shared",)
    assert api.environment["POWERTOOLS_SERVICE_NAME"] == "api"
    assert api.environment["STAGE"] == "local"
    assert api.environment["FLAVOUR"] == "laptop"
    assert api.environment["BASE_URL"] == "http://127.0.0.1:9"
    assert api.environment["TABLE_NAME"] == "ridecast-local-table"
    assert api.environment["TOPIC_ARN"] == f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:ridecast-local-Topic"
    assert api.environment["MACHINE_ARN"] == f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:ridecast-local-flow"
    assert api.timeout_seconds == 5
    assert functions["TasksFunction"].timeout_seconds == 30


def test_routes_take_the_default_authorizer_unless_none(template):
    # When the HttpApi routes are read
    routes = {(r.method, r.path): r for r in template.routes()}
    # Then each names its function and, unless Auth is NONE, the default authorizer with its cache time
    assert routes[("GET", "/public/{name}")].authorizer is None
    assert routes[("POST", "/flows")].route_key == "POST /flows"
    authorizer = routes[("GET", "/private")].authorizer
    assert authorizer is not None
    assert (authorizer.name, authorizer.function_id, authorizer.ttl_seconds) == ("KeyAuth", "AuthFunction", 300)
    assert authorizer.sam.use_simple_response is True
    assert [source.identity_source for source in authorizer.sam.identity_sources] == ["Authorization"]


def test_schedules_and_their_periods(template):
    (tick,) = template.schedules()
    assert (tick.name, tick.target_id, tick.period_seconds) == ("TasksFunction.Tick", "TasksFunction", 60)
    (fast,) = template.schedules(override_seconds=0.5)
    assert fast.period_seconds == 0.5


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200)],
)
def test_schedule_expressions(expression, seconds):
    assert schedule_period_seconds(expression) == seconds


def test_tables_translate_to_create_table(template):
    kwargs, ttl_attribute = template.table_create_kwargs("Table")
    assert kwargs == {
        "TableName": "ridecast-local-table",
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    assert ttl_attribute == "expires_at"


def test_a_table_property_the_local_stack_would_drop_fails_at_start(fixture_stack, tmp_path):
    # Given a table with a property that changes behaviour but is not applied locally
    original = (fixture_stack / "template.yaml").read_text()
    text = original.replace("BillingMode:", "StreamSpecification: {}\n      BillingMode:")
    (tmp_path / "template.yaml").write_text(text)
    # Then reading it fails and names the property
    with pytest.raises(TemplateError, match="StreamSpecification"):
        LocalTemplate(tmp_path / "template.yaml").table_create_kwargs("Table")


def test_state_machine_definition_gets_its_substitutions(template):
    (flow,) = template.state_machines()
    assert flow.name == "ridecast-local-flow"
    assert flow.arn == template.ref("Flow")
    assert f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:TasksFunction" in flow.definition
    assert "${" not in flow.definition


def test_a_substitution_missing_from_the_template_fails_at_start():
    with pytest.raises(TemplateError, match=r"\$\{Missing\} has no DefinitionSubstitutions"):
        substitute('{"Resource": "${Missing}"}', {"Other": "x"}, "Flow")


def test_refs_are_the_physical_values_and_registered_values_win(template):
    # Physical ids are deterministic, except a secret's ARN, which moto picks and the stack registers
    assert template.ref("Table") == "ridecast-local-table"
    assert template.ref("Flow") == f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:ridecast-local-flow"
    assert template.ref("Stage") == "local"
    template.register("RootKeySecret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf")
    assert template.ref("RootKeySecret").endswith("x-AbCdEf")
    api = next(f for f in template.functions() if f.logical_id == "ApiFunction")
    assert api.environment["SECRET_ARN"].endswith("x-AbCdEf")
    with pytest.raises(TemplateError, match="Nope"):
        template.ref("Nope")


def test_two_functions_disagreeing_on_a_variable_cannot_share_one_process(template):
    functions = template.functions()
    assert merged_environment(functions)["STAGE"] == "local"
    first, second = functions[0], functions[1]
    clash = type(second)(**{**second.__dict__, "environment": {**second.environment, "STAGE": "prod"}})
    with pytest.raises(TemplateError, match=r"STAGE is 'local' in .* but 'prod'"):
        merged_environment([first, clash])


def test_service_name_may_differ_per_function(template):
    assert "POWERTOOLS_SERVICE_NAME" not in merged_environment(template.functions())
