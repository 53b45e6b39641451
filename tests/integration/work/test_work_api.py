"""The work API over HTTP: the task feed, claims, assignments, evidence uploads, appeals,
and the reviewers' queue, decisions and bulk approval, with bad input of every kind."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from PIL import Image

from tests.evidence_samples import mp4_header, png_declaring, screenshot
from tests.integration.answers import problem
from tests.integration.work_support import (
    act_like_a_person,
    assignment_row,
    bearer,
    browse_as,
    campaign_row,
    evidence_count,
    grant_reviewer,
    noise_png,
    set_columns,
)
from tests.lifecycle_world import World, add_worker, live_campaign, window_nearly_over
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import local_time, utcnow
from xingdong.core.settings import Settings
from xingdong.dispatch.weights import DispatchWeights
from xingdong.evidence import service as evidence
from xingdong.identity import service as identity
from xingdong.work import service as work
from xingdong.work.models import Assignment

PNG = screenshot()


async def claim(
    client: httpx.AsyncClient, auth: dict[str, str], campaign: Campaign, key: str | None = None
) -> httpx.Response:
    headers = {**auth, **({"Idempotency-Key": key} if key else {})}
    return await client.post(f"/api/v1/tasks/{campaign.id}/claims", headers=headers)


async def upload(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    assignment_id: str,
    data: bytes | None = PNG,
    *,
    name: str = "shot.png",
    content_type: str = "image/png",
    link: str | None = None,
    note: str | None = None,
) -> httpx.Response:
    fields = {k: v for k, v in (("link", link), ("note", note)) if v is not None}
    files = {"file": (name, data, content_type)} if data is not None else None
    return await client.post(
        f"/api/v1/me/assignments/{assignment_id}/submission",
        headers=auth,
        data=fields,
        files=files,
    )


# --- the task feed --------------------------------------------------------------------


async def test_the_feed_lists_what_the_worker_may_claim(
    client: httpx.AsyncClient, world: World
) -> None:
    follow = await live_campaign(world, title="关注官方号", unit_price=150)
    elsewhere = await live_campaign(world, title="只限广东", regions=["广东"])
    auth = await bearer(world, world.workers[0])
    feed = (await client.get("/api/v1/tasks", headers=auth)).json()
    assert [item["campaign_id"] for item in feed["items"]] == [str(follow.id)]
    assert str(elsewhere.id) not in str(feed)
    item = feed["items"][0]
    assert item["reward_fen"] == 120
    assert item["product_price_fen"] is None
    assert item["units_left"] == 5
    assert item["target_url"] == "/sandbox/@brand_official"
    assert 6 * 86400 < item["seconds_left"] <= 7 * 86400
    assert item["task_type"] == "follow"
    assert feed["reasons"] == []
    only_likes = (await client.get("/api/v1/tasks?type=like", headers=auth)).json()
    assert only_likes["items"] == []
    assert [r["code"] for r in only_likes["reasons"]] == ["no_tasks_of_type"]


async def test_an_empty_feed_says_why(client: httpx.AsyncClient, world: World) -> None:
    newcomer = await add_worker(world, birth_year=None)
    auth = await bearer(world, newcomer)
    nothing_live = (await client.get("/api/v1/tasks", headers=auth)).json()
    assert nothing_live["items"] == []
    assert [r["code"] for r in nothing_live["reasons"]] == [
        "age_unknown",
        "no_bound_account",
        "no_live_tasks",
    ]
    first = await live_campaign(world)
    english = (await client.get("/api/v1/tasks", headers={**auth, "Accept-Language": "en"})).json()
    assert [r["code"] for r in english["reasons"]] == ["age_unknown", "no_bound_account"]
    assert english["reasons"][0]["message"] == "Add your birth year on your profile first."

    # A campaign the worker has taken as often as allowed leaves the feed.
    second = await live_campaign(world, title="第二个")
    worker_auth = await bearer(world, world.workers[0])
    assert (await claim(client, worker_auth, second)).status_code == 201
    remaining = (await client.get("/api/v1/tasks", headers=worker_auth)).json()
    assert [item["campaign_id"] for item in remaining["items"]] == [str(first.id)]
    assert (await claim(client, worker_auth, first)).status_code == 201
    done = (await client.get("/api/v1/tasks", headers=worker_auth)).json()
    assert done["items"] == []
    assert [r["code"] for r in done["reasons"]] == ["all_done"]


async def test_the_feed_needs_a_token(client: httpx.AsyncClient) -> None:
    problem(await client.get("/api/v1/tasks"), 401, "not_authenticated")


async def test_one_task_with_its_requirements(client: httpx.AsyncClient, world: World) -> None:
    campaign = await live_campaign(world, comment_guidance=None)
    auth = await bearer(world, world.workers[0])
    task = (await client.get(f"/api/v1/tasks/{campaign.id}", headers=auth)).json()
    assert task["brief"] == campaign.brief
    assert task["disclosure"].startswith("广告")
    assert task["can_claim"] is True
    assert task["claim_minutes"] == 60
    claimed = (await claim(client, auth, campaign)).json()
    again = (await client.get(f"/api/v1/tasks/{campaign.id}", headers=auth)).json()
    assert again["can_claim"] is False
    assert again["reason"]["code"] == "limit_reached"
    assert again["open_assignment_id"] == claimed["id"]
    problem(await client.get(f"/api/v1/tasks/{uuid4()}", headers=auth), 404, "campaign_not_found")


# --- claims -----------------------------------------------------------------------------


async def test_a_claim_reserves_a_unit_and_a_retry_with_its_key_returns_it(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    auth = await bearer(world, world.workers[0])
    first = await claim(client, auth, campaign, key="claim-1")
    again = await claim(client, auth, campaign, key="claim-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    body = first.json()
    assert body["status"] == "claimed"
    assert body["status_label"]
    assert body["reward_fen"] == 80
    row = await campaign_row(world, campaign.id)
    assert (row.units_open, row.units_done) == (1, 0)
    other = await live_campaign(world, title="另一个")
    problem(await claim(client, auth, other, key="claim-1"), 409, "idempotency_key_reused")
    assert (await campaign_row(world, other.id)).units_open == 0


async def test_a_second_claim_beyond_the_per_person_limit_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    auth = await bearer(world, world.workers[0])
    assert (await claim(client, auth, campaign)).status_code == 201
    refused = problem(await claim(client, auth, campaign), 409, "claim_limit_reached")
    assert refused["limit"] == 1
    assert "1" in str(refused["detail"])
    assert (await campaign_row(world, campaign.id)).units_open == 1


async def test_sold_out_not_eligible_and_closed_campaigns_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, quantity=1)
    first, second = world.workers[:2]
    assert (await claim(client, await bearer(world, first), campaign)).status_code == 201
    sold = problem(await claim(client, await bearer(world, second), campaign), 409, "sold_out")
    assert sold["detail"]
    unbound = await add_worker(world)
    other = await live_campaign(world, title="另一个")
    refused = problem(
        await claim(client, {**await bearer(world, unbound), "Accept-Language": "en"}, other),
        403,
        "not_eligible",
    )
    assert refused["reason"] == "no_bound_account"
    assert refused["detail"] == "Bind an account on this platform on your profile first."
    await set_columns(world, Campaign, other.id, status="paused")
    problem(await claim(client, await bearer(world, second), other), 409, "campaign_not_open")
    assert (await campaign_row(world, other.id)).units_open == 0


async def test_a_claim_ahead_of_the_campaign_s_plan_is_refused_with_when_it_opens(
    client: httpx.AsyncClient, world: World
) -> None:
    # Ten units over a week, started a minute ago: the first is taken; the second waits
    # until the plan (looked up the guard's lead ahead) is within the slack of 1 in 10.
    campaign = await live_campaign(world, quantity=10)
    first, second = world.workers[:2]
    assert (await claim(client, await bearer(world, first), campaign)).status_code == 201
    auth = {**await bearer(world, second), "Accept-Language": "en"}
    response = await claim(client, auth, campaign)
    refused = problem(response, 429, "campaign_paced")
    weights = DispatchWeights()
    window = campaign.ends_at - campaign.starts_at
    expected = (
        campaign.starts_at
        + window * (0.1 - weights.pacing_slack)
        - timedelta(seconds=weights.pacing_lead_s)
    )
    opens_at = datetime.fromisoformat(str(refused["opens_at"]))
    # The next whole minute, as people are told it.
    assert 0 <= (opens_at - expected).total_seconds() < 61
    assert (opens_at.second, opens_at.microsecond) == (0, 0)
    wait = int(response.headers["Retry-After"])
    assert wait == refused["retry_after"]
    assert abs(wait - (opens_at - utcnow()).total_seconds()) <= 5
    assert f"opens at {local_time(opens_at)} (Beijing time)" in str(refused["detail"])
    assert (await campaign_row(world, campaign.id)).units_open == 1

    # The task says so before anyone presses the button, in Chinese too.
    task = (await client.get(f"/api/v1/tasks/{campaign.id}", headers=auth)).json()
    assert task["can_claim"] is False
    assert task["reason"]["code"] == "paced"
    assert datetime.fromisoformat(task["opens_at"]) == opens_at
    chinese = await client.get(
        f"/api/v1/tasks/{campaign.id}", headers={**auth, "Accept-Language": "zh-CN"}
    )
    assert f"{local_time(opens_at)}（北京时间）开放" in chinese.json()["reason"]["message"]

    # From that moment the plan has caught up and the claim is taken.
    async with world.db.session_scope() as s:
        taken = await work.claim(
            s, person=second, campaign_id=campaign.id, settings=world.settings, now=opens_at
        )
    assert taken.claimed_at == opens_at
    assert (await campaign_row(world, campaign.id)).units_open == 2


# --- assignments ------------------------------------------------------------------------


async def test_my_assignments_are_paginated_newest_first_and_private(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, per_person_limit=3, **window_nearly_over())
    worker, stranger = world.workers[:2]
    auth = await bearer(world, worker)
    ids = [(await claim(client, auth, campaign)).json()["id"] for _ in range(3)]
    first = (await client.get("/api/v1/me/assignments?limit=2", headers=auth)).json()
    assert [a["id"] for a in first["items"]] == ids[::-1][:2]
    assert first["next_cursor"]
    second = (
        await client.get(
            f"/api/v1/me/assignments?limit=2&cursor={first['next_cursor']}", headers=auth
        )
    ).json()
    assert [a["id"] for a in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None
    one = (await client.get(f"/api/v1/me/assignments/{ids[0]}", headers=auth)).json()
    assert one["expires_at"] > one["claimed_at"]
    assert one["appeal_until"] is None
    claimed = (await client.get("/api/v1/me/assignments?status=claimed", headers=auth)).json()
    assert len(claimed["items"]) == 3
    assert (await client.get("/api/v1/me/assignments?status=approved", headers=auth)).json()[
        "items"
    ] == []
    problem(
        await client.get("/api/v1/me/assignments?status=bogus", headers=auth),
        422,
        "validation_failed",
    )
    problem(
        await client.get("/api/v1/me/assignments?cursor=nonsense", headers=auth),
        422,
        "validation_failed",
    )
    theirs = await bearer(world, stranger)
    assert (await client.get("/api/v1/me/assignments", headers=theirs)).json()["items"] == []
    problem(
        await client.get(f"/api/v1/me/assignments/{ids[0]}", headers=theirs),
        404,
        "assignment_not_found",
    )


# --- submissions ------------------------------------------------------------------------


async def test_a_verified_follow_with_a_screenshot_is_approved_at_once(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    auth = await bearer(world, worker)
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    await act_like_a_person(world, assignment_id, follow=True)
    answer = await upload(client, auth, assignment_id, note="已关注")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "approved"
    assert body["review_reason"]["code"] == "platform_verified"
    assert body["verification"]["status"] == "verified"
    assert body["evidence_note"] == "已关注"
    assert body["hold_until"] is not None
    # The worker sees their own evidence.
    await browse_as(client, world, worker)
    picture = await client.get(body["evidence_url"])
    assert picture.status_code == 200
    assert picture.content == PNG


async def test_a_link_alone_is_evidence_and_the_claim_waits_for_a_reviewer(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    await act_like_a_person(world, assignment_id, follow=False)
    body = (
        await upload(client, auth, assignment_id, None, link="https://sandbox.example/p/1")
    ).json()
    assert body["status"] == "submitted"
    assert body["evidence_link"] == "https://sandbox.example/p/1"
    assert body["verification"]["detail"] == "no_follow"
    assert await evidence_count(world) == 0


async def test_an_upload_larger_than_the_general_body_limit_is_accepted_on_this_route(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    big = noise_png(800)
    assert settings.max_body_bytes < len(big) < settings.evidence_max_image_bytes
    elsewhere = await client.post(
        f"/api/v1/me/assignments/{assignment_id}/appeal", headers=auth, content=big
    )
    problem(elsewhere, 413, "payload_too_large")
    answer = await upload(client, auth, assignment_id, big)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "submitted"


@pytest.mark.parametrize(
    ("data", "name", "content_type", "status", "code"),
    [
        pytest.param(b"just some text", "notes.txt", "text/plain", 415, "not_an_image", id="text"),
        pytest.param(mp4_header(), "clip.mp4", "video/mp4", 415, "not_an_image", id="video"),
        pytest.param(
            png_declaring(100_000, 100_000), "bomb.png", "image/png", 422,
            "image_too_large_in_pixels", id="pixel-bomb",
        ),
        pytest.param(PNG[:200], "cut.png", "image/png", 422, "corrupt_image", id="truncated"),
        pytest.param(
            noise_png(950), "huge.png", "image/png", 413, "file_too_large", id="over-image-limit"
        ),
    ],
)  # fmt: skip
async def test_bad_uploads_are_refused_and_nothing_changes(
    client: httpx.AsyncClient,
    world: World,
    data: bytes,
    name: str,
    content_type: str,
    status: int,
    code: str,
) -> None:
    campaign = await live_campaign(world)
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    refused = problem(
        await upload(client, auth, assignment_id, data, name=name, content_type=content_type),
        status,
        code,
    )
    assert refused["detail"]
    row = await assignment_row(world, assignment_id)
    assert (row.status, row.evidence_file_id, row.submitted_at) == ("claimed", None, None)
    assert await evidence_count(world) == 0


async def test_a_body_over_the_upload_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    problem(await upload(client, auth, assignment_id, noise_png(1100)), 413, "payload_too_large")
    assert (await assignment_row(world, assignment_id)).status == "claimed"


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_upload_limit(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    campaign = await live_campaign(world)
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]

    async def chunks() -> AsyncIterator[bytes]:
        yield (
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            b"Content-Type: image/png\r\n\r\n"
        )
        for _ in range(settings.evidence_max_video_bytes // 65536 + 4):
            yield b"x" * 65536

    answer = await client.post(
        f"/api/v1/me/assignments/{assignment_id}/submission",
        headers={**auth, "content-type": "multipart/form-data; boundary=xyz"},
        content=chunks(),
    )
    problem(answer, 413, "payload_too_large")
    assert (await assignment_row(world, assignment_id)).status == "claimed"


async def test_missing_evidence_and_bad_links_are_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    nothing = problem(await upload(client, auth, assignment_id, None), 422, "evidence_required")
    assert [e["field"] for e in nothing["errors"]] == ["evidence"]
    for bad in ("javascript:alert(1)", "//evil.example/x", "ftp://files.example/a", "x" * 301):
        refused = problem(
            await upload(client, auth, assignment_id, None, link=bad), 422, "validation_failed"
        )
        assert refused["errors"][0]["field"] == "link"
    problem(
        await upload(client, auth, assignment_id, None, link="https://a.example", note="n" * 501),
        422,
        "validation_failed",
    )
    assert (await assignment_row(world, assignment_id)).status == "claimed"


async def test_a_submission_after_the_claim_expired_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    await set_columns(
        world, Assignment, UUID(assignment_id), expires_at=utcnow() - timedelta(seconds=1)
    )
    refused = problem(await upload(client, auth, assignment_id), 409, "claim_expired")
    assert refused["detail"]
    assert await evidence_count(world) == 0
    assert (await assignment_row(world, assignment_id)).status == "claimed"


async def test_someone_elses_assignment_cannot_be_submitted(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    assignment_id = (await claim(client, await bearer(world, world.workers[0]), campaign)).json()[
        "id"
    ]
    thief = await bearer(world, world.workers[1])
    problem(await upload(client, thief, assignment_id), 404, "assignment_not_found")
    assert await evidence_count(world) == 0


async def test_a_shoot_task_takes_a_video(client: httpx.AsyncClient, world: World) -> None:
    campaign = await live_campaign(
        world,
        task_type="shoot",
        title="拍一条视频",
        brief="拍一条视频介绍我们的新品，提到 @brand_official。",
    )
    auth = await bearer(world, world.workers[0])
    # A day to film, post and hand in, not the hour a follow takes.
    task = (await client.get(f"/api/v1/tasks/{campaign.id}", headers=auth)).json()
    assert task["claim_minutes"] == 24 * 60
    made = await claim(client, auth, campaign)
    assignment_id = made.json()["id"]
    lasts = datetime.fromisoformat(made.json()["expires_at"]) - datetime.fromisoformat(
        made.json()["claimed_at"]
    )
    assert lasts == timedelta(hours=24)
    nothing = problem(
        await upload(client, {**auth, "Accept-Language": "en"}, assignment_id, None),
        422,
        "evidence_required",
    )
    assert nothing["detail"] == "Upload your video or a screenshot of it, or give the video's link."
    answer = await upload(
        client, auth, assignment_id, mp4_header() + b"\x00" * 2000, name="v.mp4",
        content_type="video/mp4",
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["evidence_file_id"]


# --- reviewers --------------------------------------------------------------------------


async def submitted(
    client: httpx.AsyncClient, world: World, campaign: Campaign, worker_index: int, *, follow: bool
) -> str:
    auth = await bearer(world, world.workers[worker_index])
    assignment_id: str = (await claim(client, auth, campaign)).json()["id"]
    await act_like_a_person(world, assignment_id, follow=follow)
    # Each worker's own screenshot: the same file from two accounts is blocked as reuse.
    answer = await upload(client, auth, assignment_id, screenshot(seed=worker_index + 1))
    assert answer.json()["status"] == "submitted", answer.text
    return assignment_id


async def test_a_person_cannot_approve_in_the_platform_s_name(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    assignment_id = await submitted(client, world, campaign, 0, follow=False)
    reviewer = await bearer(world, world.reviewer)
    said = problem(
        await client.post(
            f"/api/v1/review/{assignment_id}/decision",
            headers={**reviewer, "Accept-Language": "en"},
            json={"approve": True, "reason": "platform_verified"},
        ),
        422,
        "validation_failed",
    )
    assert "did not confirm" in said["detail"]
    assert (await assignment_row(world, assignment_id)).status == "submitted"
    approved = await client.post(
        f"/api/v1/review/{assignment_id}/decision",
        headers=reviewer,
        json={"approve": True, "reason": "meets_requirements"},
    )
    assert approved.status_code == 200, approved.text


async def test_the_queue_and_a_decision_made_once(client: httpx.AsyncClient, world: World) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    assignment_id = await submitted(client, world, campaign, 0, follow=True)
    reviewer = await bearer(world, world.reviewer)
    queue = (await client.get("/api/v1/review/queue", headers=reviewer)).json()
    assert [item["assignment_id"] for item in queue] == [assignment_id]
    item = queue[0]
    assert item["verification"]["status"] == "verified"
    assert item["evidence_url"] == f"/evidence/{item['evidence_file_id']}"
    assert item["brief"] == campaign.brief
    assert item["actor_handle"].startswith("worker_")

    worker_auth = await bearer(world, world.workers[0])
    problem(await client.get("/api/v1/review/queue", headers=worker_auth), 403, "forbidden")
    problem(
        await client.post(
            f"/api/v1/review/{assignment_id}/decision",
            headers=worker_auth,
            json={"approve": True, "reason": "meets_requirements"},
        ),
        403,
        "forbidden",
    )
    problem(
        await client.post(
            f"/api/v1/review/{assignment_id}/decision",
            headers=reviewer,
            json={"approve": False, "reason": "no_such_reason"},
        ),
        422,
        "evidence_required",
    )
    problem(
        await client.post(
            f"/api/v1/review/{assignment_id}/decision",
            headers=reviewer,
            json={"approve": False, "reason": "other"},
        ),
        422,
        "evidence_required",
    )
    problem(
        await client.post(
            f"/api/v1/review/{assignment_id}/decision",
            headers=reviewer,
            json={"approve": True, "reason": "meets_requirements", "extra": 1},
        ),
        422,
        "validation_failed",
    )
    # "yes" is no boolean: nothing is decided on a guess.
    problem(
        await client.post(
            f"/api/v1/review/{assignment_id}/decision",
            headers=reviewer,
            json={"approve": "yes", "reason": "meets_requirements"},
        ),
        422,
        "validation_failed",
    )
    # A missing reason says so in its title (the code stays).
    untitled = problem(
        await client.post(
            f"/api/v1/review/{assignment_id}/decision",
            headers={**reviewer, "Accept-Language": "en"},
            json={"approve": False, "reason": ""},
        ),
        422,
        "evidence_required",
    )
    assert untitled["title"] == "A reason is missing"
    assert (await assignment_row(world, assignment_id)).status == "submitted"
    decided = await client.post(
        f"/api/v1/review/{assignment_id}/decision",
        headers=reviewer,
        json={"approve": True, "reason": "meets_requirements", "note": "清楚"},
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    again = await client.post(
        f"/api/v1/review/{assignment_id}/decision",
        headers=await bearer(world, world.reviewer2),
        json={"approve": False, "reason": "evidence_unclear"},
    )
    second = problem(again, 409, "assignment_state")
    # The status in words, in the reader's language; its code beside it.
    assert "已通过" in str(second["detail"]) and "approved" not in str(second["detail"])
    assert (second["status"], second["current_status"]) == (409, "approved")
    assert second["status_label"] == "已通过，保留期中"
    row = await assignment_row(world, assignment_id)
    assert (row.status, row.reviewed_by, row.review_note) == ("approved", world.reviewer.id, "清楚")
    assert (await client.get("/api/v1/review/queue", headers=reviewer)).json() == []


async def test_a_reviewer_cannot_decide_on_their_own_work(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    doer = world.workers[0]
    await grant_reviewer(world, doer)
    assignment_id = await submitted(client, world, campaign, 0, follow=False)
    own = await bearer(world, doer)
    assert (await client.get("/api/v1/review/queue", headers=own)).json() == []
    problem(
        await client.post(
            f"/api/v1/review/{assignment_id}/decision",
            headers=own,
            json={"approve": True, "reason": "meets_requirements"},
        ),
        403,
        "own_work",
    )
    bulk = (
        await client.post("/api/v1/review/bulk-approve", headers=own, json={"ids": [assignment_id]})
    ).json()
    assert bulk["items"][0]["code"] == "own_work"
    assert (await assignment_row(world, assignment_id)).status == "submitted"


async def test_bulk_approval_takes_only_what_the_platform_verified(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    verified = await submitted(client, world, campaign, 0, follow=True)
    not_followed = await submitted(client, world, campaign, 1, follow=False)
    hasty = await submitted(client, world, campaign, 2, follow=True)
    # Verified, but flagged by a risk rule (as a submission seconds after its claim is).
    await set_columns(
        world, Assignment, UUID(hasty), risk_reasons=["submitted_too_fast"], risk_score=50
    )
    unknown = str(uuid4())
    reviewer = await bearer(world, world.reviewer)

    problem(
        await client.post(
            "/api/v1/review/bulk-approve",
            headers=await bearer(world, world.workers[0]),
            json={"ids": [verified]},
        ),
        403,
        "forbidden",
    )
    problem(
        await client.post("/api/v1/review/bulk-approve", headers=reviewer, json={"ids": []}),
        422,
        "validation_failed",
    )
    answer = await client.post(
        "/api/v1/review/bulk-approve",
        headers={**reviewer, "Accept-Language": "en"},
        json={"ids": [verified, not_followed, hasty, unknown, verified]},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["approved"] == 1
    assert [(i["id"], i["approved"], i["code"]) for i in body["items"]] == [
        (verified, True, None),
        (not_followed, False, "not_verified"),
        (hasty, False, "has_risk_reasons"),
        (unknown, False, "assignment_not_found"),
    ]
    assert body["items"][1]["message"]
    assert (await assignment_row(world, verified)).status == "approved"
    assert (await assignment_row(world, verified)).review_reason == "platform_verified"
    assert (await assignment_row(world, not_followed)).status == "submitted"
    assert (await assignment_row(world, hasty)).status == "submitted"
    again = (
        await client.post("/api/v1/review/bulk-approve", headers=reviewer, json={"ids": [verified]})
    ).json()
    assert again["items"][0]["code"] == "assignment_state"


# --- appeals ----------------------------------------------------------------------------


async def test_a_rejection_can_be_appealed_once_within_the_window(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    assignment_id = await submitted(client, world, campaign, 0, follow=False)
    worker = await bearer(world, world.workers[0])
    problem(
        await client.post(
            f"/api/v1/me/assignments/{assignment_id}/appeal",
            headers=worker,
            json={"reason": "我关注了"},
        ),
        409,
        "assignment_state",
    )
    await client.post(
        f"/api/v1/review/{assignment_id}/decision",
        headers=await bearer(world, world.reviewer),
        json={"approve": False, "reason": "action_not_done", "note": "没有关注"},
    )
    mine = (
        await client.get(
            f"/api/v1/me/assignments/{assignment_id}", headers={**worker, "Accept-Language": "en"}
        )
    ).json()
    assert mine["status"] == "rejected"
    assert mine["review_reason"] == {
        "code": "action_not_done",
        "message": "The action is not there",
    }
    assert mine["review_note"] == "没有关注"
    assert mine["appeal_until"] is not None
    problem(
        await client.post(
            f"/api/v1/me/assignments/{assignment_id}/appeal",
            headers=await bearer(world, world.workers[1]),
            json={"reason": "不是我的"},
        ),
        404,
        "assignment_not_found",
    )
    problem(
        await client.post(
            f"/api/v1/me/assignments/{assignment_id}/appeal", headers=worker, json={"reason": ""}
        ),
        422,
        "validation_failed",
    )
    # One character tells the operator nothing.
    short = await client.post(
        f"/api/v1/me/assignments/{assignment_id}/appeal",
        headers={**worker, "Accept-Language": "en"},
        json={"reason": " x "},
    )
    assert short.status_code == 422, short.text
    assert short.json()["errors"] == [
        {"field": "reason", "code": "invalid", "message": "Use 2 to 500 characters."}
    ]
    appealed = await client.post(
        f"/api/v1/me/assignments/{assignment_id}/appeal",
        headers=worker,
        json={"reason": "我确实关注了，截图里有"},
    )
    assert appealed.status_code == 201, appealed.text
    assert appealed.json()["kind"] == "appeal"
    assert appealed.json()["status"] == "open"
    detail = (await client.get(f"/api/v1/me/assignments/{assignment_id}", headers=worker)).json()
    assert detail["status"] == "disputed"
    assert detail["dispute"]["reason"] == "我确实关注了，截图里有"
    # The wallet's reward let go says it may still come.
    await browse_as(client, world, world.workers[0])
    wallet = (await client.get("/wallet?lang=en")).text
    assert wallet.count("data-under-appeal") == 1
    assert "You appealed: if the appeal is upheld, the reward is paid after all." in wallet
    problem(
        await client.post(
            f"/api/v1/me/assignments/{assignment_id}/appeal",
            headers=worker,
            json={"reason": "再说一次"},
        ),
        409,
        "assignment_state",
    )
    # Dismissed: the rejection stands, and it cannot be appealed again.
    dispute_id = appealed.json()["id"]
    operator = await bearer(world, world.operator)
    dismissed = await client.post(
        f"/api/v1/ops/disputes/{dispute_id}/decision",
        headers=operator,
        json={"uphold": False, "note": "截图里没有关注按钮"},
    )
    assert dismissed.status_code == 200, dismissed.text
    detail = (await client.get(f"/api/v1/me/assignments/{assignment_id}", headers=worker)).json()
    assert detail["status"] == "rejected"
    assert "data-under-appeal" not in (await client.get("/wallet")).text
    # Nothing offers a second appeal: neither the assignment nor the list.
    assert detail["appeal_until"] is None
    listed = (await client.get("/api/v1/me/assignments", headers=worker)).json()["items"]
    assert [x["appeal_until"] for x in listed if x["id"] == assignment_id] == [None]
    again = problem(
        await client.post(
            f"/api/v1/me/assignments/{assignment_id}/appeal",
            headers={**worker, "Accept-Language": "en"},
            json={"reason": "请再看一次"},
        ),
        409,
        "assignment_state",
    )
    assert again["detail"] == "This was already appealed once, and the decision stands."


async def test_an_appeal_after_the_window_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    assignment_id = await submitted(client, world, campaign, 0, follow=False)
    await client.post(
        f"/api/v1/review/{assignment_id}/decision",
        headers=await bearer(world, world.reviewer),
        json={"approve": False, "reason": "evidence_unclear"},
    )
    await set_columns(
        world, Assignment, UUID(assignment_id), reviewed_at=utcnow() - timedelta(days=8)
    )
    refused = problem(
        await client.post(
            f"/api/v1/me/assignments/{assignment_id}/appeal",
            headers=await bearer(world, world.workers[0]),
            json={"reason": "太晚了"},
        ),
        409,
        "dispute_window_closed",
    )
    assert refused["days"] == 7
    assert (await assignment_row(world, assignment_id)).status == "rejected"


# --- who sees the evidence ---------------------------------------------------------------


async def test_members_of_the_brand_see_its_evidence_and_other_brands_do_not(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    assignment_id = await submitted(client, world, campaign, 0, follow=False)
    file_id = (await assignment_row(world, assignment_id)).evidence_file_id
    rival = await add_worker(world)
    async with world.db.session_scope() as s:
        rival_actor = await identity.actor_for(s, person=rival)
        await identity.create_organisation(s, actor=rival_actor, kind="brand", name="别家品牌")
    await browse_as(client, world, world.owner)
    assert (await client.get(f"/evidence/{file_id}")).status_code == 200
    await browse_as(client, world, rival)
    assert (await client.get(f"/evidence/{file_id}")).status_code == 404
    await browse_as(client, world, world.workers[1])
    assert (await client.get(f"/evidence/{file_id}")).status_code == 404


async def test_the_brand_sees_each_hand_in_s_proof_beside_it_small(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    assignment_id = await submitted(client, world, campaign, 0, follow=False)
    file_id = str((await assignment_row(world, assignment_id)).evidence_file_id)
    await browse_as(client, world, world.owner)
    page = (await client.get(f"/campaigns/{campaign.id}?lang=en")).text
    row = page.split(f'data-completion="{assignment_id}"', 1)[1].split("</tr>", 1)[0]
    assert f'src="/evidence/{file_id}?size=small"' in row and 'loading="lazy"' in row
    assert f'href="/evidence/{file_id}"' in row  # the whole picture a click away
    small = await client.get(f"/evidence/{file_id}", params={"size": "small"})
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    assert small.headers["cache-control"] == "private, max-age=3600"
    whole = await client.get(f"/evidence/{file_id}")
    assert len(small.content) < len(whole.content) / 2
    with Image.open(io.BytesIO(small.content)) as picture:
        assert max(picture.size) == 320
        with Image.open(io.BytesIO(whole.content)) as original:
            # The same shape, only smaller.
            assert abs(picture.width / picture.height - original.width / original.height) < 0.02
    # Nobody else gets the small one either.
    await browse_as(client, world, world.workers[1])
    assert (await client.get(f"/evidence/{file_id}", params={"size": "small"})).status_code == 404

    # The brand's systems: the list says where the proof is, and a key reads it.
    owner = await bearer(world, world.owner)
    made = await client.post(
        f"/api/v1/orgs/{world.org_id}/api-keys", json={"name": "proofs", "access": "read"},
        headers=owner,
    )  # fmt: skip
    assert made.status_code == 201, made.text
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    listed = await client.get(f"/api/v1/campaigns/{campaign.id}/assignments", headers=key)
    item = next(i for i in listed.json()["items"] if i["id"] == assignment_id)
    assert (item["evidence_file_id"], item["evidence_kind"]) == (file_id, "image")
    by_key = await client.get(f"/api/v1/evidence/{file_id}", headers=key)
    assert by_key.status_code == 200 and by_key.headers["content-type"] == "image/png"
    await browse_as(client, world, world.workers[0])
    uploaded = (await client.get(f"/evidence/{file_id}")).content  # its uploader: as sent
    assert uploaded == await world_file_bytes(client, file_id)
    with Image.open(io.BytesIO(by_key.content)) as clean, Image.open(io.BytesIO(uploaded)) as sent:
        # A PNG stays lossless: the brand sees every pixel the worker sent.
        assert clean.tobytes() == sent.convert(clean.mode).tobytes()
    stranger = await bearer(world, world.workers[1])
    problem(await client.get(f"/api/v1/evidence/{file_id}", headers=stranger), 404,
            "evidence_not_found")  # fmt: skip
    refused = await client.get(f"/api/v1/evidence/{file_id}?size=huge", headers=key)
    assert refused.status_code == 422


async def test_a_video_proof_is_played_not_shown_as_a_broken_picture(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(
        world, task_type="shoot", title="拍一条视频", review_policy="manual",
        brief="拍一条视频介绍我们的新品，提到 @brand_official。",
    )  # fmt: skip
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    answer = await upload(
        client, auth, assignment_id, mp4_header() + b"\x00" * 2000, name="v.mp4",
        content_type="video/mp4",
    )  # fmt: skip
    file_id = answer.json()["evidence_file_id"]
    await browse_as(client, world, world.workers[0])
    own = (await client.get(f"/me/tasks/{assignment_id}")).text
    assert f'<video class="wk-proof" src="/evidence/{file_id}"' in own
    assert "data-evidence-image" not in own
    # A phone's player asks for a part first: it gets that part, from the stored file.
    video = mp4_header() + b"\x00" * 2000
    part = await client.get(f"/evidence/{file_id}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206, part.text
    assert part.headers["content-range"] == f"bytes 0-99/{len(video)}"
    assert part.content == video[:100]
    assert part.headers["content-security-policy"] == "default-src 'none'; sandbox"
    whole = await client.get(f"/evidence/{file_id}")
    assert whole.status_code == 200 and whole.content == video
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["x-content-type-options"] == "nosniff"
    await browse_as(client, world, world.owner)
    page = (await client.get(f"/campaigns/{campaign.id}?lang=en")).text
    row = page.split(f'data-completion="{assignment_id}"', 1)[1].split("</tr>", 1)[0]
    assert f'data-evidence-video="{file_id}"' in row and "size=small" not in row
    assert f'href="/evidence/{file_id}"' not in row  # its file can say where it was shot
    withheld = await client.get(f"/evidence/{file_id}?lang=en")
    assert withheld.status_code == 403 and "reviewers only" in withheld.text
    on_page = await client.get(f"/evidence/{file_id}?size=small&lang=en")
    assert on_page.status_code == 415
    assert "Only pictures have a small version; open the video itself." in on_page.text
    problem(
        await client.get(
            f"/api/v1/evidence/{file_id}?size=small", headers=await bearer(world, world.owner)
        ),
        415,
        "not_an_image",
    )


async def world_file_bytes(client: httpx.AsyncClient, file_id: str) -> bytes:
    """A file's bytes as the evidence storage holds them."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    async with runtime.db.sessionmaker() as s:
        file = await evidence.get_file(s, UUID(file_id))
    data: bytes = await runtime.evidence.get(file.storage_key)
    return data


async def test_a_brand_sees_a_photo_without_where_it_was_taken(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    auth = await bearer(world, world.workers[0])
    assignment_id = (await claim(client, auth, campaign)).json()["id"]
    exif = Image.Exif()
    exif[0x0110] = "Phone Model 9"  # the phone's model
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 2.0), 3: "E", 4: (121.0, 28.0, 5.0)}  # GPS
    with Image.open(io.BytesIO(screenshot(seed=5))) as shot:
        photo = io.BytesIO()
        shot.convert("RGB").save(photo, "JPEG", quality=90, exif=exif)
    sent = await upload(
        client, auth, assignment_id, photo.getvalue(), name="p.jpg", content_type="image/jpeg"
    )
    assert sent.status_code == 200, sent.text
    file_id = sent.json()["evidence_file_id"]
    await browse_as(client, world, world.workers[0])
    own = await client.get(f"/evidence/{file_id}")
    with Image.open(io.BytesIO(own.content)) as mine:
        assert mine.getexif()[0x0110] == "Phone Model 9"  # the uploader gets it as sent
    await browse_as(client, world, world.owner)
    for size in (None, "small"):
        seen = await client.get(f"/evidence/{file_id}", params={"size": size} if size else {})
        assert seen.status_code == 200 and seen.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(seen.content)) as theirs:
            assert dict(theirs.getexif()) == {}, size
            assert b"Phone Model 9" not in seen.content
    # Stored bytes damaged since: a readable refusal, not a server error.
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    async with world.db.sessionmaker() as s:
        stored = await evidence.get_file(s, UUID(file_id))
    await runtime.evidence.put(stored.storage_key, photo.getvalue()[:500])
    damaged = await client.get(f"/evidence/{file_id}", params={"size": "small", "lang": "en"})
    assert damaged.status_code == 422
    assert "damaged in storage" in damaged.text
