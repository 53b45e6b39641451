"""Health, readiness, metrics, request ids and problem+json for unknown routes."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from xingdong.work.labels import TASK_TYPE_LABELS


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["schema"]


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    body = (await client.get("/metrics")).text
    assert 'xingdong_http_requests_total{method="GET",route="/login",status="200"}' in body
    assert "xingdong_http_request_seconds_bucket" in body


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert given.headers["X-Request-ID"] == "abc123"
    made = await client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 16


async def test_unknown_api_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert response.json()["instance"] == "/api/v1/nothing-here"


async def test_unknown_page_is_a_readable_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>" in response.text


async def test_openapi_lists_the_identity_api(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/auth/register" in spec["paths"]
    assert "/api/v1/orgs/{org_id}/members" in spec["paths"]
    # The feed is served by a plain route; its FastAPI twin still describes it.
    feed = spec["paths"]["/api/v1/tasks"]["get"]
    assert feed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/TaskFeedOut"
    )
    assert [p["name"] for p in feed["parameters"]] == ["type", "limit"]


async def test_openapi_says_which_operations_take_a_bearer_token(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    signed = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") == [{"bearer": []}]
    }
    assert {("get", "/api/v1/me"), ("get", "/api/v1/tasks")} <= signed
    assert ("get", "/api/v1/orgs/{org_id}/campaigns") in signed  # keys and tokens alike
    open_to_all = {("post", "/api/v1/auth/tokens"), ("post", "/api/v1/auth/register")}
    assert not open_to_all & signed
    # What it says is what happens: a signed operation without a token is refused.
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_method_a_path_does_not_take_is_told_every_one_it_does(
    client: httpx.AsyncClient,
) -> None:
    # /api/v1/me has a route for GET and another for PATCH.
    answer = await client.delete("/api/v1/me")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, PATCH"
    assert answer.headers["content-type"] == "application/problem+json"
    page = await client.post("/")
    assert (page.status_code, page.headers["allow"]) == (405, "GET")  # FastAPI: no HEAD


async def test_opening_a_form_address_says_what_to_do_in_the_page_language(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/api/v1/nothing-here", headers={"Accept-Language": "en"})
    assert missing.json()["detail"] == "There is nothing at this path."
    # Reloading the page a form answered asks its address with GET: not a page.
    english = await client.get("/logout?lang=en")
    assert english.status_code == 405
    assert "Go back to the form and send it again." in english.text
    assert "Method Not Allowed" not in english.text
    chinese = await client.get("/logout?lang=zh_CN")
    assert "返回表单重新提交" in chinese.text and "Method Not Allowed" not in chinese.text


async def test_openapi_describes_errors_as_the_api_sends_them(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["default"]["content"]["application/problem+json"]["schema"] == (
                problem
            ), (method, path)
            if "422" in responses:
                assert list(responses["422"]["content"]) == ["application/problem+json"]
    assert "HTTPValidationError" not in str(spec)
    # What is described is what is sent: a refused body, in the described shape.
    refused = await client.post("/api/v1/auth/tokens", json={"phone": 1})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    schema = spec["components"]["schemas"]["Problem"]
    assert set(schema["required"]) <= body.keys()
    assert set(body) <= set(schema["properties"])
    assert set(body["errors"][0]) == set(schema["properties"]["errors"]["items"]["properties"])


async def test_a_body_the_schema_refuses_is_explained_in_the_request_language(
    client: httpx.AsyncClient,
) -> None:
    sent = {"phone": 13912345678, "password": "x", "surprise": True}
    chinese = (await client.post("/api/v1/auth/tokens", json=sent)).json()
    english = (
        await client.post("/api/v1/auth/tokens", json=sent, headers={"Accept-Language": "en"})
    ).json()
    said = {e["field"]: (e["code"], e["message"]) for e in english["errors"]}
    assert said == {
        "phone": ("string_type", "Enter text."),
        "surprise": ("extra_forbidden", "This field is not expected here."),
    }
    assert {e["field"]: e["message"] for e in chinese["errors"]} == {
        "phone": "请输入文字。",
        "surprise": "这里不应有这个字段。",
    }
    assert chinese["detail"] == "phone: 请输入文字。; surprise: 这里不应有这个字段。"


async def test_not_ready_while_the_database_does_not_answer() -> None:
    from tests.integration.conftest import make_settings
    from xingdong.app import create_app

    # Nothing listens on port 1: every connection is refused at once.
    app = create_app(make_settings(), database_url="postgresql://nobody@127.0.0.1:1/none")
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/readyz")
    finally:
        await app.state.runtime.db.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def _body_models() -> dict[str, type[BaseModel]]:
    """Every pydantic model of the application, by the names the OpenAPI document gives
    them (the class name, or the module path and the name where two share a name)."""
    found: dict[str, type[BaseModel]] = {}
    waiting: list[type[BaseModel]] = [BaseModel]
    while waiting:
        for model in waiting.pop().__subclasses__():
            waiting.append(model)
            if model.__module__.startswith("xingdong."):
                found.setdefault(model.__name__, model)
                found[f"{model.__module__}.{model.__name__}".replace(".", "__")] = model
    return found


async def test_switches_and_counts_in_bodies_take_only_json_booleans_and_whole_numbers(
    client: httpx.AsyncClient,
) -> None:
    """A request that says "accept": "no" or "fraud": 0 must not act as false (Pydantic's
    lax mode would read both so); every boolean and integer field of every request body
    refuses other JSON types."""
    spec = (await client.get("/api/v1/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    models = _body_models()
    checked: list[str] = []
    for operations in spec["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref is None:
                continue
            name = ref.rsplit("/", 1)[1]
            for field, described in schemas[name].get("properties", {}).items():
                kinds = {described.get("type")} | {
                    alternative.get("type") for alternative in described.get("anyOf", [])
                }
                wrong: list[tuple[object, str]] = []
                if "boolean" in kinds:
                    wrong = [("no", "bool_type"), (0, "bool_type"), ("true", "bool_type")]
                elif "integer" in kinds:
                    wrong = [("9", "int_type"), (True, "int_type")]
                for value, code in wrong:
                    with pytest.raises(ValidationError) as refused:
                        models[name].model_validate({field: value})
                    said = {e["type"] for e in refused.value.errors() if e["loc"] == (field,)}
                    assert said == {code}, (name, field, value, said)
                if wrong:
                    checked.append(f"{name}.{field}")
    assert {"OfferAnswer.accept", "WeightsIn.based_on", "ProfileUpdate.birth_year"} <= set(checked)
    assert any(name.endswith("risk__api__DecisionIn.fraud") for name in checked)


async def test_a_body_not_in_utf8_is_refused_as_json_that_does_not_parse(
    client: httpx.AsyncClient,
) -> None:
    garbled = b"\xb0\x3b\x8f"
    json_type = {"Content-Type": "application/json"}
    for language, message in (("en", "The body is not valid JSON."), ("zh-CN", None)):
        refused = await client.post(
            "/api/v1/auth/tokens",
            content=garbled,
            headers={**json_type, "Accept-Language": language},
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        body = refused.json()
        assert body["code"] == "validation_failed"
        assert [(e["field"], e["code"]) for e in body["errors"]] == [("body", "json_invalid")]
        if message is not None:
            assert body["errors"][0]["message"] == message
        else:
            assert body["errors"][0]["message"] != "The body is not valid JSON."
            assert "Request failed" not in body["title"]
    # A page's form that cannot be read says so in words, not in the framework's.
    broken_form = await client.post(
        "/login",
        content=garbled,
        headers={"Content-Type": "multipart/form-data; boundary=zz", "Accept-Language": "en"},
    )
    assert broken_form.status_code == 400
    assert "The form could not be read" in broken_form.text
    assert "parsing the body" not in broken_form.text
    # The same form sent to the API (evidence is sent as one) is a problem of its own.
    broken_upload = await client.post(
        "/api/v1/me/assignments/01a2502f-40be-71ad-b39f-98c7104e5a7c/submission",
        content=garbled,
        headers={"Content-Type": "multipart/form-data; boundary=zz", "Accept-Language": "en"},
    )
    assert broken_upload.status_code == 400
    assert broken_upload.headers["content-type"] == "application/problem+json"
    assert broken_upload.json()["code"] == "body_unreadable"
    assert broken_upload.json()["detail"].startswith("The form could not be read")


async def test_task_type_filters_list_the_types_they_take(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    for path in ("/api/v1/tasks", "/api/v1/ops/dispatch"):
        (described,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "type"]
        assert set(described["schema"]["enum"]) == set(TASK_TYPE_LABELS), path
