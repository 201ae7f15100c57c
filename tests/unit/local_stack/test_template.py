import pytest

from local_stack.template import ACCOUNT_ID, REGION, STACK_NAME, Template, TemplateError, load_yaml

HEADER = """
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [local, dev]}
  Size: {Type: Number, Default: 64, MinValue: 1, MaxValue: 512}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
  Empty: {Type: String, Default: ""}
Conditions:
  IsLocal: !Equals [!Ref Stage, local]
  NotLocal: !Not [!Condition IsLocal]
  HasName: !Not [!Equals [!Ref Empty, ""]]
  Both: !And [!Condition IsLocal, !Not [!Condition HasName]]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {TableName: !Sub "${AWS::StackName}-rides"}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: x/, Handler: app.h}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties: {Name: !Sub "${AWS::StackName}-matching"}
  Topic:
    Type: AWS::SNS::Topic
  Secret:
    Type: AWS::SecretsManager::Secret
  LocalOnly:
    Type: AWS::SNS::Topic
    Condition: IsLocal
"""


def test_short_form_tags_become_long_form_intrinsics():
    doc = load_yaml(
        """
a: !Ref Stage
b: !GetAtt Fn.Arn
c: !GetAtt [Fn, Arn]
d: !Sub "x-${Stage}"
e: !Sub ["${A}-${B}", {A: 1, B: !Ref Stage}]
f: !If [IsLocal, yes-local, no-local]
g: !Select [1, !Split [",", "a,b,c"]]
h: !Join ["-", [a, !Ref Stage]]
version: 2010-09-09
"""
    )
    assert doc["a"] == {"Ref": "Stage"}
    assert doc["b"] == doc["c"] == {"Fn::GetAtt": ["Fn", "Arn"]}
    assert doc["d"] == {"Fn::Sub": "x-${Stage}"}
    assert doc["e"] == {"Fn::Sub": ["${A}-${B}", {"A": 1, "B": {"Ref": "Stage"}}]}
    assert doc["f"] == {"Fn::If": ["IsLocal", "yes-local", "no-local"]}
    assert doc["g"] == {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}
    # CloudFormation reads dates as strings; plain YAML would hand back a datetime.date.
    assert doc["version"] == "2010-09-09"


def test_parameters_take_overrides_then_defaults(write_template):
    template = Template(write_template(HEADER), {"Stage": "local"})
    assert template.resolve({"Ref": "Stage"}) == "local"
    assert template.resolve({"Ref": "Size"}) == "64"
    assert template.resolve({"Ref": "Names"}) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("override", "message"),
    [({"Stage": "prod"}, "not one of"), ({"Size": "0"}, "below"), ({"Size": "lots"}, "not a number")],
)
def test_parameter_constraints_are_checked(write_template, override, message):
    with pytest.raises(TemplateError, match=message):
        Template(write_template(HEADER), override)


def test_parameter_without_default_needs_an_override(write_template):
    with pytest.raises(TemplateError, match="Url has no Default"):
        Template(write_template("Parameters:\n  Url: {Type: String}\nResources: {}\n"))


def test_conditions_decide_values_and_resources(write_template):
    local = Template(write_template(HEADER), {"Stage": "local"})
    dev = Template(write_template(HEADER))
    assert local.resolve(load_yaml("!If [IsLocal, a, b]")) == "a"
    assert dev.resolve(load_yaml("!If [IsLocal, a, b]")) == "b"
    assert local.condition("Both") is True
    assert dev.condition("NotLocal") is True
    assert "LocalOnly" in local.resources
    assert "LocalOnly" not in dev.resources


def test_no_value_drops_the_key(write_template):
    template = Template(write_template(HEADER))
    resolved = template.resolve(load_yaml("{keep: 1, drop: !If [IsLocal, 2, !Ref AWS::NoValue]}"))
    assert resolved == {"keep": 1}


def test_sub_resolves_pseudo_parameters_refs_attributes_and_escapes(write_template):
    template = Template(write_template(HEADER))
    text = "${AWS::Region}/${AWS::AccountId}/${Stage}/${Table}/${Fn.Arn}/${!Literal}"
    assert template.resolve({"Fn::Sub": text}) == (
        f"{REGION}/{ACCOUNT_ID}/dev/{STACK_NAME}-rides/arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:Fn/${{Literal}}"
    )
    assert template.resolve({"Fn::Sub": ["${X}-${Stage}", {"X": {"Ref": "Size"}}]}) == "64-dev"


def test_refs_and_attributes_of_resources(write_template):
    template = Template(write_template(HEADER))
    assert template.ref("Table") == "ridecast-local-rides"
    assert template.get_att("Table", "Arn") == f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/ridecast-local-rides"
    assert template.ref("Fn") == "Fn"
    assert template.ref("Machine") == f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:ridecast-local-matching"
    assert template.get_att("Machine", "Name") == "ridecast-local-matching"
    assert template.ref("Topic") == f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:ridecast-local-Topic"
    assert template.get_att("FnRole", "Arn") == f"arn:aws:iam::{ACCOUNT_ID}:role/ridecast-local-FnRole"


def test_registered_values_win_over_computed_ones(write_template):
    template = Template(write_template(HEADER))
    template.register("Secret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf")
    assert template.resolve({"Ref": "Secret"}).endswith("x-AbCdEf")


def test_select_join_split_findinmap(write_template):
    template = Template(write_template(HEADER + "Mappings:\n  Sizes: {dev: {memory: 256}}\n"))
    assert template.resolve(load_yaml('!Join [":", [!Select [2, !Ref Names], !Ref Stage]]')) == "c:dev"
    assert template.resolve(load_yaml("!FindInMap [Sizes, !Ref Stage, memory]")) == 256


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("!Ref Nope", "unknown resource Nope"),
        ("!GetAtt Table.Colour", "Table.Colour"),
        ("!ImportValue x", "not supported"),
    ],
)
def test_what_cannot_be_resolved_fails_with_its_name(write_template, expression, message):
    template = Template(write_template(HEADER))
    with pytest.raises(TemplateError, match=message):
        template.resolve(load_yaml(expression))
