import base64
import json

import pytest
from samcli.local.apigw.authorizers.lambda_authorizer import LambdaAuthorizer
from werkzeug.test import Client
from werkzeug.wrappers import Request

from local_stack.gateway import Gateway, RouteTable, response_from_result
from local_stack.template import Authorizer, Route


def route(method, path, authorizer=None, function="Fn"):
    return Route(method, path, function, authorizer)


class TestRouteSelection:
    table = RouteTable(
        [
            route("GET", "/rides"),
            route("GET", "/rides/{ride_id}"),
            route("POST", "/rides/{ride_id}/cancel"),
            route("GET", "/rides/special"),
        ]
    )

    @pytest.mark.parametrize(
        ("method", "path", "key", "params"),
        [
            ("GET", "/rides", "GET /rides", {}),
            ("GET", "/rides/r1", "GET /rides/{ride_id}", {"ride_id": "r1"}),
            ("GET", "/rides/special", "GET /rides/special", {}),
            ("POST", "/rides/r1/cancel", "POST /rides/{ride_id}/cancel", {"ride_id": "r1"}),
        ],
    )
    def test_most_specific_route_wins(self, method, path, key, params):
        matched = self.table.match(method, path)
        assert matched is not None
        assert (matched[0].route_key, matched[1]) == (key, params)

    def test_no_route_no_match(self):
        assert RouteTable([route("GET", "/rides")]).match("GET", "/drivers") is None
        assert RouteTable([route("GET", "/rides")]).match("POST", "/rides") is None
        assert RouteTable([route("GET", "/rides/{id}")]).match("GET", "/rides//") is None
        assert self.table.match("GET", "/rides/r1/") is None
        assert self.table.match("PUT", "/rides") is None


class FakeFunctions:
    def __init__(self, answers):
        self.answers = answers
        self.events = []

    def __call__(self, function_id, event):
        self.events.append((function_id, event))
        answer = self.answers[function_id]
        if isinstance(answer, BaseException):
            raise answer
        return answer(event) if callable(answer) else answer


AUTHORIZER = Authorizer(
    "KeyAuth",
    "Auth",
    ttl_seconds=300,
    sam=LambdaAuthorizer(
        "KeyAuth", "request", "Auth", ["$request.header.Authorization"], "2.0", use_simple_response=True
    ),
)


def make_client(answers, routes=None):
    functions = FakeFunctions(answers)
    routes = routes or [route("POST", "/rides/{ride_id}/cancel", AUTHORIZER), route("GET", "/public")]
    gateway = Gateway(routes, functions, "127.0.0.1:3000")

    def app(environ, start_response):
        return gateway.handle(Request(environ))(environ, start_response)

    return Client(app, use_cookies=False), functions, gateway


def allow(event):
    return {"isAuthorized": event["headers"]["authorization"] == "Bearer good", "context": {"fleet_id": "f1"}}


class TestEvents:
    def test_payload_format_2_0_event(self):
        client, functions, _ = make_client({"Auth": allow, "Fn": {"statusCode": 200, "body": "{}"}})
        client.post(
            "/rides/r%201/cancel?b=2&a=1&a=3",
            data=json.dumps({"reason": "late"}),
            headers=[
                ("Authorization", "Bearer good"),
                ("Content-Type", "application/json"),
                ("X-Multi", "one"),
                ("X-Multi", "two"),
                ("Cookie", "s=1; t=2"),
                ("User-Agent", "pytest"),
            ],
        )
        (_, auth_event), (function_id, event) = functions.events
        assert function_id == "Fn"
        assert event["version"] == "2.0"
        assert event["routeKey"] == "POST /rides/{ride_id}/cancel"
        assert event["rawPath"] == "/rides/r%201/cancel"
        assert event["rawQueryString"] == "b=2&a=1&a=3"
        assert event["queryStringParameters"] == {"a": "1,3", "b": "2"}
        assert event["pathParameters"] == {"ride_id": "r 1"}
        assert event["headers"]["authorization"] == "Bearer good"
        # The WSGI layer joins repeated headers before we see them (the dev server with ",", this test client
        # with ", "); API Gateway joins with ",".
        assert event["headers"]["x-multi"].replace(" ", "") == "one,two"
        assert all(name == name.lower() for name in event["headers"])
        assert event["cookies"] == ["s=1", "t=2"]
        assert "cookie" not in event["headers"]
        assert json.loads(event["body"]) == {"reason": "late"}
        assert event["isBase64Encoded"] is False
        context = event["requestContext"]
        assert context["http"] == {
            "method": "POST",
            "path": "/rides/r%201/cancel",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "pytest",
        }
        assert context["routeKey"] == "POST /rides/{ride_id}/cancel"
        assert context["stage"] == "$default"
        assert context["domainName"] == "127.0.0.1:3000"
        assert context["authorizer"] == {"lambda": {"fleet_id": "f1"}}
        assert isinstance(context["timeEpoch"], int)
        assert context["requestId"]

        assert auth_event["type"] == "REQUEST"
        assert auth_event["identitySource"] == ["Bearer good"]
        assert (
            auth_event["routeArn"]
            == "arn:aws:execute-api:us-east-1:123456789012:local/$default/POST/rides/r%201/cancel"
        )
        assert auth_event["pathParameters"] == {"ride_id": "r 1"}
        assert "authorizer" not in auth_event["requestContext"]

    def test_optional_members_are_left_out_like_api_gateway_does(self):
        client, functions, _ = make_client({"Fn": {"statusCode": 204}})
        client.get("/public")
        (_, event) = functions.events[0]
        for absent in ("queryStringParameters", "pathParameters", "body", "cookies"):
            assert absent not in event
        assert "authorizer" not in event["requestContext"]

    def test_form_posts_arrive_base64_encoded(self):
        client, functions, _ = make_client({"Fn": {"statusCode": 200}})
        client.get("/public", data="From=%2B1555&Body=1", content_type="application/x-www-form-urlencoded")
        (_, event) = functions.events[0]
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == b"From=%2B1555&Body=1"


class TestAuthorizer:
    def test_missing_identity_is_401_without_calling_the_authorizer(self):
        client, functions, _ = make_client({"Auth": allow, "Fn": {"statusCode": 200}})
        response = client.post("/rides/r1/cancel")
        assert (response.status_code, response.json) == (401, {"message": "Unauthorized"})
        assert functions.events == []

    def test_refused_is_403(self):
        client, functions, _ = make_client({"Auth": allow, "Fn": {"statusCode": 200}})
        response = client.post("/rides/r1/cancel", headers={"Authorization": "Bearer bad"})
        assert (response.status_code, response.json) == (403, {"message": "Forbidden"})
        assert [f for f, _ in functions.events] == ["Auth"]

    def test_decisions_are_cached_per_identity(self):
        client, functions, gateway = make_client({"Auth": allow, "Fn": {"statusCode": 200}})
        for _ in range(3):
            client.post("/rides/r1/cancel", headers={"Authorization": "Bearer good"})
        client.post("/rides/r1/cancel", headers={"Authorization": "Bearer bad"})
        assert [f for f, _ in functions.events] == ["Auth", "Fn", "Fn", "Fn", "Auth"]
        gateway.authorizer_cache.clear()
        client.post("/rides/r1/cancel", headers={"Authorization": "Bearer good"})
        assert functions.events[-2][0] == "Auth"

    def test_an_authorizer_that_fails_is_500(self):
        client, _, _ = make_client({"Auth": RuntimeError("bug"), "Fn": {"statusCode": 200}})
        response = client.post("/rides/r1/cancel", headers={"Authorization": "x"})
        assert (response.status_code, response.json) == (500, {"message": "Internal Server Error"})


class TestResponses:
    def test_unmatched_route_is_404(self):
        client, _, _ = make_client({})
        response = client.get("/nowhere")
        assert (response.status_code, response.json) == (404, {"message": "Not Found"})

    def test_a_handler_that_raises_is_500_with_its_traceback_on_stderr(self, capsys):
        client, _, _ = make_client({"Fn": ValueError("handler bug")})
        response = client.get("/public")
        assert (response.status_code, response.json) == (500, {"message": "Internal Server Error"})
        assert "ValueError: handler bug" in capsys.readouterr().err

    def test_full_response_mapping(self):
        response = response_from_result(
            {
                "statusCode": 201,
                "headers": {"Content-Type": "text/html", "X-A": "1"},
                "cookies": ["a=1", "b=2"],
                "body": base64.b64encode(b"<p>hi</p>").decode(),
                "isBase64Encoded": True,
            }
        )
        assert response.status_code == 201
        assert response.headers["Content-Type"] == "text/html"
        assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
        assert response.get_data() == b"<p>hi</p>"

    @pytest.mark.parametrize("result", [{"ride_id": "r1"}, "plain", [1, 2], {"statusCode": "two hundred"}])
    def test_an_answer_without_a_numeric_status_code_is_refused(self, result):
        # Every function of template.yaml is a Powertools resolver, which always sets statusCode
        with pytest.raises(ValueError, match="statusCode"):
            response_from_result(result)

    def test_a_non_string_body_is_a_500(self):
        client, _, _ = make_client({"Fn": {"statusCode": 200, "body": {"not": "a string"}}})
        assert client.get("/public").status_code == 500


class TestLog:
    def test_offer_tokens_are_masked_in_the_request_log(self):
        # Given a gateway that logs each request, and an offer link's token (the driver's key to the ride)
        lines: list[str] = []
        functions = FakeFunctions({"Fn": {"statusCode": 200}})
        gateway = Gateway([route("POST", "/offers/{token}/accept")], functions, "127.0.0.1:3000", log=lines.append)

        def app(environ, start_response):
            return gateway.handle(Request(environ))(environ, start_response)

        token = "r_7k3q.d_ann.Secret0123456789abcdefXYZ"
        # When the driver accepts through the link
        Client(app, use_cookies=False).post(f"/offers/{token}/accept")
        # Then the log names the route but not the token's secret
        assert len(lines) == 1
        assert "Secret0123456789abcdefXYZ" not in lines[0]
        assert "/offers/r_7k" in lines[0]
        assert lines[0].split(" ")[1].endswith("/accept")
