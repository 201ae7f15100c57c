"""GET /console and its files as API Gateway calls them, the reads the console relies on (GET /me,
GET /matchings), and what the page's files must hold: no inline script, every word in every language."""

import base64
import gzip
import re
from pathlib import Path
from typing import Any

import pytest

from ridecast.api import console
from tests.fixtures import invoke, json_body, load_event, with_path, with_principal, with_query
from tests.unit.conftest import fleet_principal

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

STATIC = Path(console.__file__).parent / "static"


def _headers(response: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in response["headers"].items()}


def _asset(name: str, **headers: str) -> dict[str, Any]:
    event = with_path(load_event("console/console_asset.json"), name=name)
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/console/assets/{name}"
    event["headers"].update(headers)
    return invoke("console", event)


def test_the_page_is_served_with_a_policy_that_forbids_inline_script() -> None:
    # When a browser opens /console
    response = invoke("console", load_event("console/console_page.json"))
    # Then it gets the page, as HTML, with a Content-Security-Policy allowing only the page's own scripts
    assert response["statusCode"] == 200
    headers = _headers(response)
    assert headers["content-type"] == "text/html; charset=utf-8"
    policy = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-cache"
    assert headers["etag"].startswith('"')
    assert '<script type="module" src="/console/assets/app.js">' in response["body"]


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("app.js", "text/javascript; charset=utf-8"), ("console.css", "text/css; charset=utf-8")],
)
def test_each_file_has_its_content_type(name: str, content_type: str) -> None:
    response = _asset(name)
    assert response["statusCode"] == 200
    assert _headers(response)["content-type"] == content_type
    assert response["body"] == (STATIC / name).read_text(encoding="utf-8")


def test_a_copy_the_browser_holds_is_answered_304_without_a_body() -> None:
    # Given the browser fetched the module once
    etag = _headers(_asset("app.js"))["etag"]
    # When it asks again with that ETag, Then the answer is 304 and carries nothing
    response = _asset("app.js", **{"if-none-match": etag})
    assert response["statusCode"] == 304
    assert not response.get("body")
    # And another ETag gets the file
    assert _asset("app.js", **{"if-none-match": '"stale"'})["statusCode"] == 200


@pytest.mark.parametrize("name", ["nope.js", "..%2Fapp.py", "__init__.py", "app.JS"])
def test_a_name_that_is_not_a_console_file_is_404(name: str) -> None:
    response = _asset(name)
    assert response["statusCode"] == 404
    assert json_body(response)["error"] == "not_found"


def test_no_file_runs_inline_script_or_writes_markup_from_strings() -> None:
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    # Every <script> has a src; no on...= handler and no style= attribute (the policy would block them)
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", page) == []
    assert re.findall(r"\son[a-z]+\s*=", page) == []
    assert re.findall(r"\sstyle\s*=", page) == []
    for module in STATIC.glob("*.js"):
        code = module.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in code, f"{module.name} uses {sink}"
        stores = re.findall(r"\b(?:localStorage|indexedDB)\s*\.|document\.cookie", code)
        assert stores == [], f"{module.name}: the key stays in the tab's sessionStorage only"


def _catalogues() -> dict[str, set[str]]:
    """The keys of each language's catalogue in i18n.js (a top-level key of each language's block)."""
    source = (STATIC / "i18n.js").read_text(encoding="utf-8")
    blocks = re.split(r"^  (en|fr|he|ar): \{$", source, flags=re.MULTILINE)
    keys = {}
    for language, block in zip(blocks[1::2], blocks[2::2], strict=True):
        body = block.split("\n  },", 1)[0]
        keys[language] = set(re.findall(r'(?:^|[{,]\s*|^\s+)("[\w.]+"|\w+):\s', body, flags=re.MULTILINE))
        keys[language] = {key.strip('"') for key in keys[language]} - {"zero", "one", "two", "few", "many", "other"}
    return keys


def test_every_word_the_console_uses_is_in_every_language() -> None:
    catalogues = _catalogues()
    assert set(catalogues) == {"en", "fr", "he", "ar"}
    used = set(re.findall(r'data-i18n(?:-label|-placeholder)?="([\w.]+)"', (STATIC / "index.html").read_text()))
    for module in STATIC.glob("*.js"):
        used |= set(re.findall(r'\bt\("([\w.]+)"', module.read_text(encoding="utf-8")))
    # Keys built at run time: statuses of rides, offers and drivers
    used |= {f"status.{s}" for s in ("scheduled", "searching", "assigned", "timed_out", "cancelled", "failed")}
    used |= {
        f"offer.{s}" for s in ("sent", "failed", "accepted", "rejected", "timeout", "taken", "cancelled", "released")
    }
    used |= {f"driver.{s}" for s in ("active", "inactive", "blocked")}
    for language, keys in catalogues.items():
        assert sorted(used - keys) == [], f"{language} lacks these words"


def test_me_names_the_keys_fleet_role_and_language(fleet: Any) -> None:
    event = with_principal(load_event("fleets/who_am_i.json"), fleet_principal(fleet.fleet_id, "dispatcher"))
    response = invoke("fleets", event)
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response) == {
        "fleet_id": fleet.fleet_id,
        "fleet_name": fleet.name,
        "role": "dispatcher",
        "language": "en",
        "timezone": fleet.timezone,
        "dispatch_paused": False,
    }


def test_me_refuses_the_root_key() -> None:
    event = with_principal(load_event("fleets/who_am_i.json"), {"principal": "root"})
    assert invoke("fleets", event)["statusCode"] == 403


def test_matchings_of_a_quiet_fleet_are_none_and_carry_the_servers_time(fleet: Any) -> None:
    event = with_principal(load_event("rides/live_matchings.json"), fleet_principal(fleet.fleet_id, "dispatcher"))
    response = invoke("rides", event)
    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    assert body["matchings"] == []
    assert body["as_of"].endswith("Z")


@pytest.mark.parametrize("seconds", ["-1", "3601", "soon"])
def test_matchings_refuse_a_bad_ended_within(fleet: Any, seconds: str) -> None:
    event = with_principal(load_event("rides/live_matchings.json"), fleet_principal(fleet.fleet_id))
    response = invoke("rides", with_query(event, ended_within_seconds=seconds))
    assert response["statusCode"] == 422
    assert "ended_within_seconds" in json_body(response)["message"]


def test_a_browser_that_accepts_gzip_gets_the_file_compressed() -> None:
    response = _asset("i18n.js", **{"accept-encoding": "gzip, deflate, br"})
    assert response["statusCode"] == 200
    assert _headers(response)["content-encoding"] == "gzip"
    assert response["isBase64Encoded"] is True
    text = gzip.decompress(base64.b64decode(response["body"])).decode("utf-8")
    assert text == (STATIC / "i18n.js").read_text(encoding="utf-8")
