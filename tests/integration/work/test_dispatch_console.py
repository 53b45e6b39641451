"""The operators' console of the live feed (``/ops/dispatch`` and its API): every live
campaign against its plan with its pace (paused by the guard, ahead, behind, on plan),
search, filters and pages; the weights in force; the tiers the feed served."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import httpx
import pytest
from sqlalchemy import func, select, text

from tests.integration.answers import csrf_from, problem
from tests.integration.conftest import make_settings
from tests.integration.work_support import bearer, browse_as, work_settings
from tests.lifecycle_world import World, live_campaign, window_nearly_over
from xingdong.core.audit import AuditEntry
from xingdong.core.clock import utcnow
from xingdong.core.jobs import build_job_app
from xingdong.core.settings import Settings
from xingdong.dispatch import nightly
from xingdong.dispatch.fairness import MIN_VISITS
from xingdong.dispatch.live import live_dispatch
from xingdong.dispatch.optimum import OptimumNotSolved
from xingdong.dispatch.weights import TUNABLE


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # An operator's change to the weights, which the console shows as changed.
    return make_settings(
        **work_settings(tmp_path / "evidence"), dispatch_weights={"max_per_brand": 2}
    )


async def console(client: httpx.AsyncClient, auth: dict[str, str], query: str = "") -> dict:  # type: ignore[type-arg]
    response = await client.get(f"/api/v1/ops/dispatch{query}", headers=auth)
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


async def three_paces(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    """Three live campaigns: one a worker claimed a fifth of as it began (the guard holds
    it), one near the end of a long window that nobody took (behind), one just begun
    (on plan); their ids by what the console should call them."""
    claimed = await live_campaign(
        world, title="开头就被领走", starts_at=utcnow() - timedelta(minutes=5)
    )
    behind = await live_campaign(world, title="没人领的老任务", **window_nearly_over())
    fresh = await live_campaign(
        world, title="刚开始的任务", task_type="shoot", brief="拍一条视频介绍新品。"
    )
    answer = await client.post(
        f"/api/v1/tasks/{claimed.id}/claims", headers=await bearer(world, world.workers[0])
    )
    assert answer.status_code == 201, answer.text
    return {"paused": str(claimed.id), "behind": str(behind.id), "on_plan": str(fresh.id)}


async def test_operators_see_each_live_campaign_against_its_plan(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = await three_paces(client, world)
    auth = await bearer(world, world.operator)
    body = await console(client, auth)
    rows = {row["campaign_id"]: row for row in body["campaigns"]}
    assert {rows[i]["pace"] for i in ids.values()} == set(ids)
    assert {code: rows[i]["pace"] for code, i in ids.items()} == {c: c for c in ids}
    paused = rows[ids["paused"]]
    # One unit of five held: a fifth taken and held against a plan near zero.
    assert paused["taken"] == pytest.approx(0.2) and paused["held"] == pytest.approx(0.2)
    assert paused["planned"] < 0.01
    assert paused["paused_until"] is not None
    assert rows[ids["behind"]]["planned"] > 0.95 and rows[ids["behind"]]["taken"] == 0
    assert body["counts"] == {"paused": 1, "ahead": 0, "behind": 1, "on_plan": 1}
    # Furthest from the plan first: the old campaign nobody took, then the paused one.
    assert [row["campaign_id"] for row in body["campaigns"]] == [
        ids["behind"], ids["paused"], ids["on_plan"]
    ]  # fmt: skip
    assert body["total"] == 3 and body["pages"] == 1

    # The weights: every one operators may set, the changed one said so.
    weights = {w["name"]: w for w in body["weights"]}
    assert set(weights) == TUNABLE
    assert weights["max_per_brand"] == {
        "name": "max_per_brand", "value": 2, "default": 1, "changed": True
    }  # fmt: skip
    assert [w["name"] for w in body["weights"] if w["changed"]] == ["max_per_brand"]


async def test_search_filters_and_pages(client: httpx.AsyncClient, world: World) -> None:
    ids = await three_paces(client, world)
    auth = await bearer(world, world.operator)
    found = await console(client, auth, "?q=老任务")
    assert [row["campaign_id"] for row in found["campaigns"]] == [ids["behind"]]
    # The counts follow the search, not the pace chosen.
    assert found["counts"] == {"paused": 0, "ahead": 0, "behind": 1, "on_plan": 0}
    by_brand = await console(client, auth, "?q=测试品牌")
    assert by_brand["total"] == 3
    shot = await console(client, auth, "?type=shoot")
    assert [row["campaign_id"] for row in shot["campaigns"]] == [ids["on_plan"]]
    held = await console(client, auth, "?pace=paused")
    assert [row["campaign_id"] for row in held["campaigns"]] == [ids["paused"]]
    assert held["counts"]["behind"] == 1 and held["total"] == 1
    pages = [await console(client, auth, f"?limit=1&page={n}") for n in (1, 2, 3)]
    assert [p["campaigns"][0]["campaign_id"] for p in pages] == [
        ids["behind"], ids["paused"], ids["on_plan"]
    ]  # fmt: skip
    assert {p["pages"] for p in pages} == {3}
    past_the_end = await console(client, auth, "?limit=1&page=9")
    assert past_the_end["page"] == 3
    # A search with LIKE's wildcards matches them as text.
    assert (await console(client, auth, "?q=%25"))["total"] == 0


async def test_the_tiers_the_feed_served(client: httpx.AsyncClient, world: World) -> None:
    await live_campaign(world)
    for worker in world.workers:
        assert (
            await client.get("/api/v1/tasks", headers=await bearer(world, worker))
        ).status_code == 200
    body = await console(client, await bearer(world, world.operator))
    assert sum(t["visits"] for t in body["tiers"]) == len(world.workers)
    assert all(t["relief"] == 0 for t in body["tiers"])


async def test_only_operators_and_bad_filters_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = await bearer(world, world.workers[0])
    refused = await client.get("/api/v1/ops/dispatch", headers=worker)
    problem(refused, 403, "forbidden")
    operator = await bearer(world, world.operator)
    for query, field in (("?type=dance", "type"), ("?pace=fast", "pace"), ("?page=0", "page")):
        answer = await client.get(f"/api/v1/ops/dispatch{query}", headers=operator)
        body = problem(answer, 422, "validation_failed")
        assert field in answer.text, body
    # Pages: a worker is told in words; unknown filters show everything.
    await browse_as(client, world, world.workers[0])
    page = await client.get("/ops/dispatch")
    assert page.status_code == 403 and "<html" in page.text


async def test_the_console_page(client: httpx.AsyncClient, world: World) -> None:
    ids = await three_paces(client, world)
    await browse_as(client, world, world.operator)
    page = await client.get("/ops/dispatch")
    assert page.status_code == 200
    for campaign_id in ids.values():
        assert f'data-console-campaign="{campaign_id}"' in page.text
    assert 'data-pace-count="paused">1<' in page.text
    assert 'data-weight="max_per_brand" data-weight-changed' in page.text
    assert "<code>max_per_brand = 2</code>" in page.text
    # The command that plays the weights in force, as a shell takes it (quotes escaped).
    assert (
        "<code data-bench-command>xingdong bench dispatch --weights "
        "&#39;{&#34;max_per_brand&#34;: 2}&#39;</code>" in page.text
    )
    assert "/ops/dispatch" in page.text  # in the staff menu
    # Unknown filters and a page that is not a number show the first page of everything.
    lenient = await client.get("/ops/dispatch?pace=fast&type=dance&page=abc")
    assert lenient.status_code == 200
    assert lenient.text.count("data-console-campaign=") == 3
    only = await client.get("/ops/dispatch?pace=behind")
    assert only.text.count("data-console-campaign=") == 1
    assert f'data-console-campaign="{ids["behind"]}"' in only.text
    none = await client.get("/ops/dispatch?q=没有这个")
    assert "data-console-empty" in none.text
    english = await client.get("/ops/dispatch?lang=en")
    assert "Feed console" in english.text and "Paused by the guard" in english.text
    chinese = await client.get("/ops/dispatch?lang=zh_CN")
    assert "Feed console" not in chinese.text
    # A tier served fewer feeds than fairness compares shows "—", and the page says why.
    assert f"提供满 {MIN_VISITS} 次任务流后" in chinese.text
    assert f"once this process has served it {MIN_VISITS} feeds" in english.text


async def feed_ids(client: httpx.AsyncClient, auth: dict[str, str]) -> set[str]:
    answer = await client.get("/api/v1/tasks", headers=auth)
    assert answer.status_code == 200, answer.text
    return {item["campaign_id"] for item in answer.json()["items"]}


async def test_weights_put_in_force_reach_claims_and_feeds_at_once(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = await three_paces(client, world)
    operator = await bearer(world, world.operator)
    second = await bearer(world, world.workers[1])
    paused = ids["paused"]
    # Held back by the guard: not in the feed, and a claim is refused.
    assert paused not in await feed_ids(client, second)
    refused = await client.post(f"/api/v1/tasks/{paused}/claims", headers=second)
    problem(refused, 429, "campaign_paced")

    # Launch day: let campaigns run far ahead of their plans.
    answer = await client.post(
        "/api/v1/ops/dispatch/weights",
        headers=operator,
        json={"weights": {"pacing_slack": 1.0, "max_per_brand": 2}, "note": "上线日"},
    )
    assert answer.status_code == 201, answer.text
    # max_per_brand 2 is what the setting gives already: left to it.
    assert answer.json()["weights"] == {"pacing_slack": 1.0}
    assert paused in await feed_ids(client, second)
    taken = await client.post(f"/api/v1/tasks/{paused}/claims", headers=second)
    assert taken.status_code == 201, taken.text
    body = await console(client, operator)
    weights = {w["name"]: w for w in body["weights"]}
    assert weights["pacing_slack"]["value"] == 1.0 and weights["pacing_slack"]["changed"]
    assert body["counts"]["paused"] == 0
    assert [(c["weights"], c["note"]) for c in body["changes"]] == [
        ({"pacing_slack": 1.0}, "上线日")
    ]
    assert body["bench_command"] == (
        'xingdong bench dispatch --weights \'{"max_per_brand": 2, "pacing_slack": 1}\''
    )

    # Back to the setting: the guard holds the campaign again (two units of five held).
    back = await client.post("/api/v1/ops/dispatch/weights", headers=operator, json={"weights": {}})
    assert back.status_code == 201 and back.json()["weights"] == {}
    body = await console(client, operator)
    assert {w["name"]: w["value"] for w in body["weights"]}["pacing_slack"] == 0.02
    rows = {row["campaign_id"]: row for row in body["campaigns"]}
    assert rows[paused]["pace"] == "paused" and rows[paused]["held"] == pytest.approx(0.4)
    assert [c["weights"] for c in body["changes"]] == [{}, {"pacing_slack": 1.0}]
    assert body["bench_command"] == "xingdong bench dispatch --weights '{\"max_per_brand\": 2}'"
    third = await bearer(world, world.workers[2])
    assert paused not in await feed_ids(client, third)


@pytest.mark.parametrize(
    ("weights", "field"),
    [
        ({"no_such_weight": 1}, "no_such_weight"),
        ({"explore": -0.5}, "explore"),
        ({"max_per_brand": 1.5}, "max_per_brand"),
    ],
)
async def test_bad_weights_are_refused_by_name_and_nothing_changes(
    client: httpx.AsyncClient, world: World, weights: dict[str, float], field: str
) -> None:
    operator = await bearer(world, world.operator)
    answer = await client.post(
        "/api/v1/ops/dispatch/weights", headers=operator, json={"weights": weights}
    )
    body = problem(answer, 422, "validation_failed")
    assert [f["field"] for f in body["errors"]] == [field], body
    assert (await console(client, operator))["changes"] == []


async def test_only_operators_change_weights_and_the_body_is_checked(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = await bearer(world, world.workers[0])
    refused = await client.post(
        "/api/v1/ops/dispatch/weights", headers=worker, json={"weights": {"explore": 0.3}}
    )
    problem(refused, 403, "forbidden")
    operator = await bearer(world, world.operator)
    for body in (
        {"weights": {"explore": "lots"}},
        {"weights": {"explore": 0.3}, "note": "x" * 501},
        {"weights": {"explore": 0.3}, "extra": 1},
        {},
    ):
        problem(
            await client.post("/api/v1/ops/dispatch/weights", headers=operator, json=body),
            422,
            "validation_failed",
        )
    assert (await console(client, operator))["changes"] == []


async def test_the_weights_form(client: httpx.AsyncClient, world: World) -> None:
    await browse_as(client, world, world.operator)
    page = await client.get("/ops/dispatch")
    pattern = r'name="([a-z_]+)" inputmode="decimal" size="8" value="([^"]*)"'
    form = dict(re.findall(pattern, page.text))
    assert set(form) == TUNABLE and form["max_per_brand"] == "2"
    # The change in force when the page was made (none yet), as the page sends it.
    assert 'name="based_on" value="0"' in page.text
    form["based_on"] = "0"
    for garbled in ("", "abc", "-1", "1e30"):
        stale = await client.post(
            "/ops/dispatch/weights",
            data={**form, "based_on": garbled, "csrf_token": csrf_from(page.text)},
        )
        assert stale.status_code == 422 and "表单已过期" in stale.text, garbled
    assert (await console(client, await bearer(world, world.operator)))["changes"] == []

    # A value that is not a number: the page again, the field said so, what was typed kept.
    wrong = await client.post(
        "/ops/dispatch/weights",
        data={**form, "explore": "很多", "note": "试试", "csrf_token": csrf_from(page.text)},
    )
    assert wrong.status_code == 422
    assert 'data-error-for="explore"' in wrong.text and 'value="很多"' in wrong.text
    assert "试试" in wrong.text

    done = await client.post(
        "/ops/dispatch/weights",
        data={**form, "explore": "0.3", "note": "新活动多", "csrf_token": csrf_from(page.text)},
    )
    assert done.status_code == 303
    shown = await client.get(done.headers["location"])
    assert 'role="status"' in shown.text
    assert "<code>explore = 0.3</code>" in shown.text
    change_row = re.search(r"<tr data-weight-change=.*?</tr>", shown.text, re.S)
    assert change_row is not None
    # From what the setting gave to the console's own value.
    assert "新活动多" in change_row.group(0) and "设置值 → 0.3" in change_row.group(0)
    assert "data-weights-reset" in shown.text

    based_on = re.search(r'name="based_on" value="(\d+)"', shown.text)
    assert based_on is not None
    back = await client.post(
        "/ops/dispatch/weights",
        data={"reset": "1", "based_on": based_on.group(1), "csrf_token": csrf_from(shown.text)},
    )
    assert back.status_code == 303
    after = await client.get(back.headers["location"])
    assert "<code>explore = 0.3</code>" not in after.text
    assert after.text.count("data-weight-change=") == 2
    assert "data-weights-reset" not in after.text


async def test_an_operator_has_the_prices_seeded_now(
    client: httpx.AsyncClient, world: World
) -> None:
    ids = await three_paces(client, world)
    operator = await bearer(world, world.operator)
    assert (await console(client, operator))["seeded_at"] is None
    problem(
        await client.post(
            "/api/v1/ops/dispatch/seed-prices", headers=await bearer(world, world.workers[0])
        ),
        403,
        "forbidden",
    )
    asked = await client.post("/api/v1/ops/dispatch/seed-prices", headers=operator)
    assert asked.status_code == 202, asked.text
    # One seeding waits at a time.
    again = await client.post("/api/v1/ops/dispatch/seed-prices", headers=operator)
    problem(again, 409, "seeding_waiting")
    async with world.db.sessionmaker() as s:
        jobs = (
            await s.execute(text("SELECT id, task_name, status, lock FROM procrastinate_jobs"))
        ).all()
        audit = await s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "dispatch.seeding_requested")
        )
    # Locked as the nightly run is, so an asked-for seeding and the nightly one take turns.
    assert [(j.id, j.task_name, j.status, j.lock) for j in jobs] == [
        (asked.json()["job_id"], "dispatch:seed_prices", "todo", "dispatch_seed_prices")
    ]
    assert audit == 1

    # The job worker runs it over the day's feeds: the campaigns shown get a price.
    for worker in world.workers:
        await feed_ids(client, await bearer(world, worker))
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    await live_dispatch(runtime.db, runtime.settings).exposures.drain()
    job_app = build_job_app(world.db.url)
    async with job_app.open_async():
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    body = await console(client, operator)
    assert body["seeded_at"] is not None
    rows = {row["campaign_id"]: row for row in body["campaigns"]}
    assert rows[ids["on_plan"]]["seeded"] is not None
    # Done, another may be asked for.
    assert (
        await client.post("/api/v1/ops/dispatch/seed-prices", headers=operator)
    ).status_code == 202


async def test_the_seed_button(client: httpx.AsyncClient, world: World) -> None:
    await browse_as(client, world, world.operator)
    page = await client.get("/ops/dispatch")
    assert "data-seed-prices" in page.text
    first = await client.post(
        "/ops/dispatch/seed-prices", data={"csrf_token": csrf_from(page.text)}
    )
    assert first.status_code == 303
    assert 'role="status"' in (await client.get(first.headers["location"])).text
    second = await client.post(
        "/ops/dispatch/seed-prices", data={"csrf_token": csrf_from(page.text)}
    )
    assert second.status_code == 409
    assert 'role="alert"' in second.text and "已有一次定价任务在等待" in second.text


async def test_a_change_made_meanwhile_is_not_undone(
    client: httpx.AsyncClient, world: World
) -> None:
    first = await bearer(world, world.operator)
    second = await bearer(world, world.operator2)
    mine = await client.post(
        "/api/v1/ops/dispatch/weights",
        headers=first,
        json={"weights": {"explore": 0.3}, "based_on": 0},
    )
    assert mine.status_code == 201, mine.text
    # The other operator looked before that change: theirs is refused, mine stays.
    stale = await client.post(
        "/api/v1/ops/dispatch/weights",
        headers=second,
        json={"weights": {"novice_boost": 0.3}, "based_on": 0},
    )
    problem(stale, 409, "weights_changed_meanwhile")
    body = await console(client, first)
    assert [c["weights"] for c in body["changes"]] == [{"explore": 0.3}]
    fresh = await client.post(
        "/api/v1/ops/dispatch/weights",
        headers=second,
        json={"weights": {"explore": 0.3, "novice_boost": 0.3}, "based_on": mine.json()["id"]},
    )
    assert fresh.status_code == 201, fresh.text

    # On the page: a form filled before a change shows the change in force instead.
    await browse_as(client, world, world.operator)
    page = await client.get("/ops/dispatch")
    pattern = r'name="([a-z_]+)" inputmode="decimal" size="8" value="([^"]*)"'
    form = dict(re.findall(pattern, page.text))
    based_on = re.search(r'name="based_on" value="(\d+)"', page.text)
    assert based_on is not None and based_on.group(1) == str(fresh.json()["id"])
    await client.post(
        "/api/v1/ops/dispatch/weights", headers=second, json={"weights": {"explore": 0.9}}
    )
    refused = await client.post(
        "/ops/dispatch/weights",
        data={**form, "based_on": based_on.group(1), "csrf_token": csrf_from(page.text)},
    )
    assert refused.status_code == 409
    assert 'role="alert"' in refused.text
    assert 'name="explore" inputmode="decimal" size="8" value="0.9"' in refused.text


async def test_operators_put_a_campaign_in_the_quality_plan_and_the_feed_shows_it_first(
    client: httpx.AsyncClient, world: World
) -> None:
    plain = await live_campaign(world, title="普通任务", **window_nearly_over())
    chosen = await live_campaign(world, title="精品任务", **window_nearly_over())
    worker = await bearer(world, world.workers[0])
    operator = await bearer(world, world.operator)
    await feed_ids(client, worker)
    url = f"/api/v1/ops/campaigns/{chosen.id}/quality-plan"
    problem(await client.post(url, headers=worker, json={"included": True}), 403, "forbidden")
    answer = await client.post(url, headers=operator, json={"included": True, "note": "口碑好"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["quality_plan"] is True

    # Every feed from the next sync on: the same terms, and the one in the plan ahead.
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    answer = await client.get("/api/v1/tasks", headers=worker)
    order = [item["campaign_id"] for item in answer.json()["items"]]
    assert order.index(str(chosen.id)) < order.index(str(plain.id))
    live = live_dispatch(runtime.db, runtime.settings)
    assert live.spec(str(chosen.id)).is_quality and not live.spec(str(plain.id)).is_quality
    rows = {c["campaign_id"]: c for c in (await console(client, operator))["campaigns"]}
    assert rows[str(chosen.id)]["quality_plan"] and not rows[str(plain.id)]["quality_plan"]
    async with world.db.sessionmaker() as s:
        entry = await s.scalar(
            select(AuditEntry).where(AuditEntry.action == "campaigns.quality_plan_joined")
        )
        assert entry is not None and entry.data == {"note": "口碑好"}

    # The console takes it out again, after its confirmation.
    await browse_as(client, world, world.operator)
    page = await client.get("/ops/dispatch")
    assert 'data-quality-plan="in"' in page.text and "data-quality-leave" in page.text
    # The plan alone, when there are many: only the campaign in it.
    only = await client.get("/ops/dispatch?quality=1")
    assert f'data-console-campaign="{chosen.id}"' in only.text
    assert f'data-console-campaign="{plain.id}"' not in only.text
    assert "&quality=1&" in only.text  # the pace chips keep the filter
    garbled = await client.post(
        f"/ops/dispatch/quality-plan/{chosen.id}",
        data={"included": "abc", "csrf_token": csrf_from(page.text)},
    )
    assert garbled.status_code == 422  # not read as "take out"
    assert 'data-quality-plan="in"' in (await client.get("/ops/dispatch")).text
    taken_out = await client.post(
        f"/ops/dispatch/quality-plan/{chosen.id}",
        data={"included": "0", "csrf_token": csrf_from(page.text)},
    )
    assert taken_out.status_code == 303, taken_out.text
    await client.get("/api/v1/tasks", headers=worker)
    assert not live.spec(str(chosen.id)).is_quality


SEED_NOW = "/api/v1/ops/dispatch/seed-prices"


async def test_a_seeding_that_failed_is_told_until_one_stores_prices(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await three_paces(client, world)
    operator = await bearer(world, world.operator)
    assert (await console(client, operator))["seeding_failed_at"] is None

    def out_of_order(*_args: object, **_kwargs: object) -> NoReturn:
        raise OptimumNotSolved("the optimum could not be solved: (HiGHS Status 4: Solve error)")

    monkeypatch.setattr(nightly, "day_prices", out_of_order)
    assert (
        await client.post("/api/v1/ops/dispatch/seed-prices", headers=operator)
    ).status_code == 202
    job_app = build_job_app(world.db.url)
    async with job_app.open_async():
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    body = await console(client, operator)
    assert body["seeding_failed_at"] is not None and body["seeded_at"] is None
    await browse_as(client, world, world.operator)
    page = (await client.get("/ops/dispatch?lang=en")).text
    assert "data-seeding-failed" in page and "the prices stored before stay in force" in page
    # The next seeding works (over a day of feeds): the failure before it is no longer news.
    monkeypatch.undo()
    for worker in world.workers:
        await feed_ids(client, await bearer(world, worker))
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    await live_dispatch(runtime.db, runtime.settings).exposures.drain()
    assert (
        await client.post("/api/v1/ops/dispatch/seed-prices", headers=operator)
    ).status_code == 202
    async with job_app.open_async():
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    body = await console(client, operator)
    assert body["seeded_at"] is not None and body["seeding_failed_at"] is None
    assert "data-seeding-failed" not in (await client.get("/ops/dispatch")).text
