"""The monitoring in template.yaml (SPEC §6): every alarm reaches the alerts topic, the dashboard is valid JSON
once deployed, shows every alarm, and charts the metrics the code emits."""

import json
import re
from pathlib import Path
from typing import Any

from tests.fixtures import REPO_ROOT, load_template


def _resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in load_template()["Resources"].items() if r["Type"] == kind}


def _dashboard_body() -> tuple[dict[str, Any], str]:
    (dashboard,) = _resources("AWS::CloudWatch::Dashboard").values()
    text: str = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    # What CloudFormation substitutes: a plain name, an ARN or an id, never quotes or braces.
    return json.loads(re.sub(r"\$\{[^}]+\}", "substituted", text)), text


def test_every_alarm_tells_the_alerts_topic() -> None:
    alarms = _resources("AWS::CloudWatch::Alarm")
    assert {"ApiLatencyAlarm", "ApiErrorRateAlarm", "LambdaErrorRateAlarm", "MatchingFailuresAlarm"} <= set(alarms)
    assert {"RidesTimedOutAlarm", "TelegramOfflineAlarm", "TwilioOfflineAlarm"} <= set(alarms)
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}], name


def test_the_dashboard_is_json_and_shows_every_alarm() -> None:
    body, text = _dashboard_body()
    assert len(body["widgets"]) >= 10
    shown = set(re.findall(r"\$\{(\w+)\.Arn\}", text))
    assert shown == set(_resources("AWS::CloudWatch::Alarm"))


def test_the_dashboard_charts_metrics_the_code_emits() -> None:
    _, text = _dashboard_body()
    code = "\n".join(p.read_text() for p in Path(REPO_ROOT, "layers/common/ridecast").rglob("*.py"))
    for metric in ("RidesEnded", "TimeToMatch", "OfferSends", "OfferFailures", "RidesTimedOut"):
        assert metric in text
        assert f'"{metric}"' in code, f"nothing emits {metric}"
