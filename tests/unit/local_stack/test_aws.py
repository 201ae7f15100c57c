import json
import threading
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import botocore_stubber

from local_stack import aws
from local_stack.lambdas import error_payload
from local_stack.template import REGION

ARN = "arn:aws:lambda:us-east-1:123456789012:function:"


class RideTaken(Exception):
    pass


class FakeLambdas:
    """Stands in for FunctionHost: name → python callable, answered the way the Invoke API answers."""

    def __init__(self):
        self.tokens = {}
        self.calls = []
        self.handlers = {"fail": self.fail, "park": self.park, "echo": lambda event: {"echo": event}}

    @staticmethod
    def fail(event):
        raise RideTaken("someone else was faster")

    def park(self, event):
        self.tokens[event["name"]] = event["token"]
        return {"parked": True}

    def __call__(self, function, payload):
        self.calls.append(function)
        name = function.rsplit(":", 1)[-1]
        if name not in self.handlers:
            return 404, b'{"Type": "User", "Message": "Function not found"}', None
        try:
            result = self.handlers[name](json.loads(payload))
        except Exception as error:
            return 200, json.dumps(error_payload(error)).encode(), "Unhandled"
        return 200, json.dumps(result).encode(), None


DOWN: set[str] = set()


@pytest.fixture
def lambdas():
    fake = FakeLambdas()
    sandbox = aws.AwsSandbox()
    sandbox.start(invoker=fake, providers_down=DOWN)
    yield fake
    sandbox.stop()
    DOWN.clear()


@pytest.fixture
def table(lambdas):
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def test_the_hook_takes_motos_place_in_every_new_session():
    client = boto3.session.Session(region_name="us-east-1").client("dynamodb")
    handlers = list(client.meta.events._emitter._handlers.prefix_search("before-send.dynamodb.UpdateItem"))
    # botocore calls every before-send handler: had moto's stubber stayed next to ours, each request
    # would have been executed twice.
    assert aws._before_send in handlers
    assert botocore_stubber not in handlers


def test_each_write_is_applied_once(table):
    table.update_item(
        TableName="t",
        Key={"pk": {"S": "c"}},
        UpdateExpression="ADD n :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert table.get_item(TableName="t", Key={"pk": {"S": "c"}})["Item"]["n"] == {"N": "1"}


def test_fifty_concurrent_conditional_accepts_have_exactly_one_winner(table):
    # Powertools and our adapters build their own sessions: the lock must hold across sessions, not
    # just within one client. (Five sessions, because building fifty takes longer than the test.)
    clients = [boto3.session.Session(region_name="us-east-1").client("dynamodb") for _ in range(5)]
    for round_number in range(5):
        ride = f"ride-{round_number}"
        table.put_item(TableName="t", Item={"pk": {"S": ride}, "status": {"S": "searching"}, "version": {"N": "1"}})
        winners, losers, errors = [], [], []
        start = threading.Barrier(50)

        def accept(driver, ride=ride, winners=winners, losers=losers, errors=errors, start=start):
            client = clients[driver % len(clients)]
            start.wait()
            try:
                client.update_item(
                    TableName="t",
                    Key={"pk": {"S": ride}},
                    UpdateExpression="SET #s = :assigned, version = :next, driver = :driver",
                    ConditionExpression="#s = :searching AND version = :expected",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={
                        ":assigned": {"S": "assigned"},
                        ":searching": {"S": "searching"},
                        ":expected": {"N": "1"},
                        ":next": {"N": "2"},
                        ":driver": {"S": str(driver)},
                    },
                )
                winners.append(driver)
            except ClientError as error:
                (losers if error.response["Error"]["Code"] == "ConditionalCheckFailedException" else errors).append(
                    error
                )
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=accept, args=(driver,)) for driver in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (len(winners), len(losers), errors) == (1, 49, [])
        item = table.get_item(TableName="t", Key={"pk": {"S": ride}})["Item"]
        assert item["driver"] == {"S": str(winners[0])}


def test_lambda_invoke_reaches_the_in_process_handler(lambdas):
    client = boto3.client("lambda")
    answer = client.invoke(FunctionName=f"{ARN}echo", Payload=json.dumps({"a": 1}))
    assert json.load(answer["Payload"]) == {"echo": {"a": 1}}
    assert lambdas.calls == [f"{ARN}echo"]
    failed = client.invoke(FunctionName="fail", Payload=b"{}")
    assert failed["FunctionError"] == "Unhandled"
    assert json.load(failed["Payload"])["errorType"] == "RideTaken"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="missing", Payload=b"{}")


def test_an_asynchronous_invoke_answers_202_at_once_and_runs_on_its_own(lambdas):
    # Given a handler that waits until the test lets it finish
    release, ran = threading.Event(), threading.Event()
    lambdas.handlers["slow"] = lambda event: (release.wait(5), ran.set(), {"done": event})[-1]
    # When it is invoked as an Event (as POST /drivers/message invokes the messaging function)
    answer = boto3.client("lambda").invoke(FunctionName="slow", InvocationType="Event", Payload=b'{"n": 1}')
    # Then Lambda's answer is 202 before the handler has finished, and the handler still runs
    assert answer["StatusCode"] == 202
    assert not ran.is_set()
    release.set()
    assert ran.wait(5)


def test_step_functions_catch_by_error_name_and_wait_for_task_tokens(lambdas):
    definition = {
        "StartAt": "Fail",
        "States": {
            "Fail": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": f"{ARN}fail", "Payload": {}},
                "Catch": [{"ErrorEquals": ["RideTaken"], "ResultPath": "$.caught", "Next": "Park"}],
                "Next": "Unexpected",
            },
            "Unexpected": {"Type": "Fail", "Error": "NotCaught"},
            "Park": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": f"{ARN}park",
                    "Payload": {"name.$": "$.name", "token.$": "$$.Task.Token"},
                },
                "TimeoutSecondsPath": "$.window",
                "ResultPath": "$.accepted",
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "TimedOut"}],
                "Next": "Matched",
            },
            "TimedOut": {"Type": "Pass", "Result": "timed_out", "ResultPath": "$.outcome", "End": True},
            "Matched": {"Type": "Pass", "Result": "matched", "ResultPath": "$.outcome", "End": True},
        },
    }
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(name="flow", definition=json.dumps(definition), roleArn=aws.DUMMY_ROLE_ARN)
    accepted = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"],
        name="accepted",
        input=json.dumps({"name": "accepted", "window": 30}),
    )["executionArn"]
    lapsed = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name="lapsed", input=json.dumps({"name": "lapsed", "window": 1})
    )["executionArn"]
    deadline = time.monotonic() + 10
    while "accepted" not in lambdas.tokens and time.monotonic() < deadline:
        time.sleep(0.05)
    sfn.send_task_success(taskToken=lambdas.tokens["accepted"], output=json.dumps({"driver": "d1"}))

    def finished(arn):
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise AssertionError(f"{arn} still running")

    done = finished(accepted)
    output = json.loads(done["output"])
    assert done["status"] == "SUCCEEDED"
    assert output["caught"]["Error"] == "RideTaken"
    assert output["accepted"] == {"driver": "d1"}
    assert output["outcome"] == "matched"
    timed_out = json.loads(finished(lapsed)["output"])
    assert timed_out["outcome"] == "timed_out"


def test_a_call_moto_does_not_answer_never_leaves_the_process(lambdas):
    client = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(aws.RealAwsRefused):
        client.list_tables()


def test_only_one_sandbox_per_process(lambdas):
    with pytest.raises(RuntimeError, match="already running"):
        aws.AwsSandbox().start(invoker=lambdas)
    # The failed start must not have switched off the running one.
    assert boto3.client("lambda").invoke(FunctionName="echo", Payload=b"{}")["StatusCode"] == 200


def test_ses_fails_while_the_email_stand_in_is_down(lambdas):
    # Given the e-mail provider switched off (POST /_local/providers/email {"down": true})
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="ops@example.com")
    DOWN.add("email")
    # When the code sends an e-mail, Then SES answers with an error the adapter can catch
    with pytest.raises(ClientError) as refused:
        ses.send_email(
            Source="ops@example.com",
            Destination={"ToAddresses": ["a@example.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
        )
    assert refused.value.response["Error"]["Code"] == "ServiceUnavailable"
    # And once it is back, the same call goes through
    DOWN.discard("email")
    ses.send_email(
        Source="ops@example.com",
        Destination={"ToAddresses": ["a@example.com"]},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    )


def test_keyed_partiql_updates_answer_like_dynamodb_at_the_cost_of_one_item() -> None:
    # Given a table with one offer `sent` and one `accepted`
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        key_schema = [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]
        attributes = [{"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK")]
        client.create_table(
            TableName="t", KeySchema=key_schema, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
        )
        for sk, status in (("O#1", "sent"), ("O#2", "accepted")):
            client.put_item(TableName="t", Item={"PK": {"S": "R"}, "SK": {"S": sk}, "status": {"S": status}})
        failed = 'UPDATE "t" SET "status"=?, "error"=? WHERE "PK"=? AND "SK"=? AND "status"=?'

        def fail(sk: str) -> dict[str, Any]:
            values = [{"S": "failed"}, {"S": "down"}, {"S": "R"}, {"S": sk}, {"S": "sent"}]
            return {"Statement": failed, "Parameters": values}

        # When one batch fails all three offers (one of them never made), only from `sent`
        answers = client.batch_execute_statement(Statements=[fail("O#1"), fail("O#2"), fail("O#3")])["Responses"]
        # Then the sent one failed, the others are DynamoDB's ConditionalCheckFailed, and nothing was created
        assert [a.get("Error", {}).get("Code") for a in answers] == [
            None,
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
        ]
        items = {i["SK"]["S"]: i for i in client.scan(TableName="t")["Items"]}
        assert sorted(items) == ["O#1", "O#2"]
        assert (items["O#1"]["status"], items["O#1"]["error"]) == ({"S": "failed"}, {"S": "down"})
        assert items["O#2"]["status"] == {"S": "accepted"}
        # And a statement of another shape (values written in it) still goes to moto's own PartiQL
        literal = {"Statement": """UPDATE "t" SET "status"='taken' WHERE "PK"='R' AND "SK"='O#2'"""}
        assert client.batch_execute_statement(Statements=[literal])["Responses"] == [{"TableName": "t"}]
        taken = client.get_item(TableName="t", Key={"PK": {"S": "R"}, "SK": {"S": "O#2"}})["Item"]
        assert taken["status"] == {"S": "taken"}


def test_executions_share_one_parse_of_their_definition_and_count_their_retries_apart(lambdas, monkeypatch):
    # Given a definition whose task fails every time and is retried twice, counting how often ANTLR parses it
    from moto.stepfunctions.parser.asl.parse import asl_parser

    definition = {
        "StartAt": "Fail",
        "States": {
            "Fail": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": f"{ARN}fail", "Payload": {}},
                "Retry": [{"ErrorEquals": ["RideTaken"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
                "End": True,
            },
        },
    }
    parses = []
    real_stream = asl_parser.CommonTokenStream
    monkeypatch.setattr(asl_parser, "CommonTokenStream", lambda lexer: parses.append(1) or real_stream(lexer))
    sfn = boto3.client("stepfunctions")
    body = json.dumps(definition, indent=1)  # a text no other test parsed before
    machine = sfn.create_state_machine(name="retried", definition=body, roleArn=aws.DUMMY_ROLE_ARN)
    # When four executions of it run side by side
    arns = [
        sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"e{i}")["executionArn"] for i in range(4)
    ]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(sfn.describe_execution(executionArn=arn)["status"] != "RUNNING" for arn in arns):
            break
        time.sleep(0.05)
    # Then each failed after its own three attempts, and the definition was parsed once for all
    assert [sfn.describe_execution(executionArn=arn)["status"] for arn in arns] == ["FAILED"] * 4
    assert lambdas.calls.count(f"{ARN}fail") == 12
    assert len(parses) == 1
