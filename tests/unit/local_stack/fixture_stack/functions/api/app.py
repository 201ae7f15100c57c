"""Fixture API: echoes what API Gateway handed over, starts the flow, or fails."""

import json
import os

import boto3
import fixturelib

SERVICE_AT_IMPORT = os.environ.get("POWERTOOLS_SERVICE_NAME")


def handler(event, context):
    fixturelib.CALLS.append("api")
    if event["rawPath"] == "/boom":
        raise ValueError("handler bug")
    if event["rawPath"] == "/flows":
        body = json.loads(event["body"])
        arn = boto3.client("stepfunctions").start_execution(  # named after the ride, as Ridecast names them
            stateMachineArn=os.environ["MACHINE_ARN"], name=body["ride"], input=json.dumps(body)
        )["executionArn"]
        return {"statusCode": 202, "body": json.dumps({"execution_arn": arn})}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-service": SERVICE_AT_IMPORT or ""},
        "cookies": ["seen=1; Path=/"],
        "body": json.dumps({"event": event, "remaining_ms": context.get_remaining_time_in_millis()}),
    }
