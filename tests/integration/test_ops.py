"""Health, readiness, metrics, request ids and problem+json for unknown routes."""

from __future__ import annotations

import httpx


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
