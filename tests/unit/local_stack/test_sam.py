import pytest

from local_stack import sam
from local_stack.lambdas import merged_environment
from local_stack.template import ACCOUNT_ID, REGION, Template, TemplateError


@pytest.fixture
def template(fixture_stack):
    return Template(fixture_stack / "template.yaml", {"Stage": "local", "PublicBaseUrl": "http://127.0.0.1:9"})


def test_functions_get_globals_merged_with_their_own_environment(template, fixture_stack):
    functions = {f.logical_id: f for f in sam.read_functions(template)}
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
    assert api.timeout_seconds == 5
    assert functions["TasksFunction"].timeout_seconds == 30


def test_routes_take_the_default_authorizer_unless_none(template):
    api = sam.read_http_api(template)
    routes = {(r.method, r.path): r for r in api.routes}
    assert routes[("GET", "/public/{name}")].authorizer is None
    assert routes[("ANY", "/private")].authorizer == "KeyAuth"
    assert routes[("POST", "/flows")].route_key == "POST /flows"
    authorizer = api.authorizers["KeyAuth"]
    assert authorizer.function_id == "AuthFunction"
    assert authorizer.identity_headers == ("Authorization",)
    assert authorizer.ttl_seconds == 300
    assert authorizer.simple_responses is True


def test_schedules_and_their_periods(template):
    (tick,) = sam.read_schedules(template)
    assert (tick.name, tick.target_id, tick.event_style, tick.period_seconds) == (
        "TasksFunction.Tick",
        "TasksFunction",
        "ScheduleV2",
        60,
    )
    (fast,) = sam.read_schedules(template, override_seconds=0.5)
    assert fast.period_seconds == 0.5


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(2 hours)", 7200), ("cron(0 7 * * ? *)", 60)],
)
def test_schedule_expressions(expression, seconds):
    assert sam.schedule_period_seconds(expression) == seconds


def test_tables_translate_to_create_table(template):
    (table,) = sam.read_tables(template)
    assert table.create_kwargs == {
        "TableName": "ridecast-local-table",
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    assert table.ttl_attribute == "expires_at"


def test_the_root_key_secret_gets_the_local_value(template):
    secrets = {s.logical_id: s for s in sam.read_secrets(template, {"RootKeySecret": "local-root-key"})}
    assert secrets["RootKeySecret"].value == "local-root-key"


def test_state_machine_definition_gets_its_substitutions(template):
    (flow,) = sam.read_state_machines(template)
    assert flow.name == "ridecast-local-flow"
    assert f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:TasksFunction" in flow.definition
    assert "${" not in flow.definition


def test_a_substitution_missing_from_the_template_fails_at_start():
    with pytest.raises(TemplateError, match=r"\$\{Missing\} has no DefinitionSubstitutions"):
        sam.substitute_definition('{"Resource": "${Missing}"}', {"Other": "x"}, "Flow")


def test_conditional_resources_are_left_out(template):
    assert [t.logical_id for t in sam.read_topics(template)] == ["Topic"]


def test_two_functions_disagreeing_on_a_variable_cannot_share_one_process(template):
    functions = sam.read_functions(template)
    assert merged_environment(functions)["STAGE"] == "local"
    first, second = functions[0], functions[1]
    clash = type(second)(**{**second.__dict__, "environment": {**second.environment, "STAGE": "prod"}})
    with pytest.raises(TemplateError, match=r"STAGE is 'local' in .* but 'prod'"):
        merged_environment([first, clash])


def test_service_name_may_differ_per_function(template):
    functions = sam.read_functions(template)
    assert "POWERTOOLS_SERVICE_NAME" not in merged_environment(functions)
