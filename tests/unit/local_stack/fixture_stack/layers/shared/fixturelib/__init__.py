"""Stands in for the ridecast layer: shared code every fixture function imports."""

import os

import boto3

CALLS: list[str] = []


def table():
    return boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
