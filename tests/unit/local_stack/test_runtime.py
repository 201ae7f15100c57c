import json
import os
import shutil
import sys
import time

import boto3
import pytest
import requests

from local_stack import LocalRuntime
from local_stack.template import TemplateError


@pytest.fixture
def runtime(fixture_stack):
    stack = LocalRuntime(fixture_stack, seed_demo=False, schedule_seconds=0.2)
    stack.start()
    yield stack
    stack.stop()


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_routes_and_events_come_from_the_template(runtime):
    response = requests.get(f"{runtime.base_url}/public/ann?x=1", timeout=5)
    assert response.status_code == 200
    assert response.headers["x-service"] == "api"  # POWERTOOLS_SERVICE_NAME of that function at import
    assert response.headers["Set-Cookie"] == "seen=1; Path=/"
    event = response.json()["event"]
    assert event["routeKey"] == "GET /public/{name}"
    assert event["pathParameters"] == {"name": "ann"}
    assert event["requestContext"]["domainName"] == runtime.domain_name
    assert 0 < response.json()["remaining_ms"] <= 5000
    assert requests.get(f"{runtime.base_url}/nowhere", timeout=5).json() == {"message": "Not Found"}


def test_the_authorizer_guards_default_routes(runtime):
    url = f"{runtime.base_url}/private"
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer bad"}, timeout=5).status_code == 403
    assert requests.get(url, headers={"Authorization": "Bearer explode"}, timeout=5).status_code == 500
    allowed = requests.delete(url, headers={"Authorization": "Bearer good"}, timeout=5)
    assert allowed.status_code == 200
    assert allowed.json()["event"]["requestContext"]["authorizer"] == {"lambda": {"who": "good"}}


def test_a_failing_handler_is_a_500(runtime, capsys):
    response = requests.get(f"{runtime.base_url}/boom", timeout=5)
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})
    assert "ValueError: handler bug" in capsys.readouterr().err


def test_environment_and_resources_are_wired(runtime):
    assert os.environ["STAGE"] == "local"
    assert os.environ["BASE_URL"] == runtime.base_url
    assert os.environ["FLAVOUR"] == "laptop"
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["SECRET_ARN"])
    assert secret["SecretString"] == "local-root-key"
    assert runtime.ref("Table") == os.environ["TABLE_NAME"] == "ridecast-local-table"
    assert (
        boto3.client("dynamodb").describe_time_to_live(TableName="ridecast-local-table")["TimeToLiveDescription"][
            "AttributeName"
        ]
        == "expires_at"
    )


def test_invoke_by_logical_id_name_or_arn(runtime):
    assert runtime.invoke("TasksFunction", {"task": "echo", "n": 1}) == {"echo": {"task": "echo", "n": 1}}
    arn = "arn:aws:lambda:us-east-1:123456789012:function:TasksFunction"
    assert runtime.invoke(arn, {"task": "echo"}) == {"echo": {"task": "echo"}}
    with pytest.raises(KeyError):
        runtime.invoke("NoSuchFunction", {})


def test_a_snapstart_function_starts_as_a_snapshot_init_and_its_hooks_run_as_lambda_runs_them(runtime):
    # Given TasksFunction has SnapStart and registers two hooks of each kind at import
    # When it is invoked
    started = runtime.invoke("TasksFunction", {"task": "started"})
    # Then its module was imported as a snapshot init, and before its first invocation the before-snapshot
    # hooks ran in reverse order of registration, then the after-restore hooks in order
    assert started == {
        "initialization": "snap-start",
        "hooks": ["before snapshot second", "before snapshot first", "after restore first", "after restore second"],
    }


def test_the_state_machine_runs_the_in_process_lambdas(runtime):
    started = requests.post(f"{runtime.base_url}/flows", json={"ride": "r1", "window": 30}, timeout=5)
    assert started.status_code == 202
    execution_arn = started.json()["execution_arn"]
    table = boto3.resource("dynamodb").Table(runtime.ref("Table"))
    parked = wait_until(lambda: table.get_item(Key={"PK": "r1"}).get("Item"))
    sfn = boto3.client("stepfunctions")
    sfn.send_task_success(taskToken=parked["token"], output=json.dumps({"driver": "d1"}))
    done = wait_until(lambda: (d := sfn.describe_execution(executionArn=execution_arn))["status"] != "RUNNING" and d)
    output = json.loads(done["output"])
    assert done["status"] == "SUCCEEDED"
    assert output["caught"]["Error"] == "RideTaken"
    assert (output["accepted"], output["outcome"]) == ({"driver": "d1"}, "matched")


def test_schedules_tick(runtime):
    ticks = sys.modules["local_stack_function_TasksFunction"].TICKS
    wait_until(lambda: len(ticks) >= 2)
    assert ticks[0] == {}  # EventBridge Scheduler without Input
    runtime.trigger_schedule("TasksFunction.Tick")


def test_stop_leaves_the_process_as_it_was(fixture_stack):
    before_env, before_path = dict(os.environ), list(sys.path)
    stack = LocalRuntime(fixture_stack, seed_demo=False).start()
    base_url = stack.base_url
    stack.stop()
    assert dict(os.environ) == before_env
    assert sys.path == before_path
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/public/x", timeout=2)
    # A second stack in the same process imports the handlers afresh.
    with LocalRuntime(fixture_stack, seed_demo=False) as again:
        assert requests.get(f"{again.base_url}/public/x", timeout=5).status_code == 200


def test_functions_that_disagree_on_a_variable_fail_at_start(fixture_stack, tmp_path):
    stack_copy = tmp_path / "stack"
    shutil.copytree(fixture_stack, stack_copy)
    template = stack_copy / "template.yaml"
    template.write_text(
        template.read_text().replace(
            "Variables: {POWERTOOLS_SERVICE_NAME: tasks}", "Variables: {POWERTOOLS_SERVICE_NAME: tasks, STAGE: prod}"
        )
    )
    before_env = dict(os.environ)
    with pytest.raises(TemplateError, match="STAGE"):
        LocalRuntime(stack_copy, seed_demo=False).start()
    assert dict(os.environ) == before_env
