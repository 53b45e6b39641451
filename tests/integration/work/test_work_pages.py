"""The worker's task pages and the reviewers' workbench, over HTTP (no browser)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import func, select

from tests.evidence_samples import screenshot
from tests.integration.answers import csrf_from, form_id_from
from tests.integration.work_support import (
    act_like_a_person,
    assignment_row,
    bearer,
    browse_as,
    campaign_row,
    evidence_count,
    handle_of,
    set_columns,
)
from tests.lifecycle_world import (
    BRAND_HANDLE,
    World,
    add_worker,
    follow_on_sandbox,
    live_campaign,
    sign_with_agency,
    unfollow_on_sandbox,
    window_nearly_over,
)
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import local_time, utcnow
from xingdong.dispatch.live import drain_exposures
from xingdong.dispatch.models import ShownFeed
from xingdong.identity.models import Organisation, Person
from xingdong.platforms.sandbox import service as sandbox
from xingdong.work import pages as work_pages
from xingdong.work import service as work
from xingdong.work.models import Assignment
from xingdong.work.review_filter import HIGH_RISK_SCORE
from xingdong.work.service import REJECT_REASONS


async def claim_in_page(client: httpx.AsyncClient, campaign: Campaign) -> str:
    page = await client.get(f"/tasks/{campaign.id}")
    answer = await client.post(
        f"/tasks/{campaign.id}/claim",
        data={"csrf_token": csrf_from(page.text), "form_id": form_id_from(page.text)},
    )
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/me/tasks/([0-9a-f-]+)\?done=.*", answer.headers["location"])
    assert match, answer.headers["location"]
    return match.group(1)


async def submit_in_page(
    client: httpx.AsyncClient,
    assignment_id: str,
    data: bytes | None,
    *,
    name: str = "shot.png",
    content_type: str = "image/png",
    field: str = "file",
) -> httpx.Response:
    page = await client.get(f"/me/tasks/{assignment_id}")
    return await client.post(
        f"/me/tasks/{assignment_id}/submission",
        data={"csrf_token": csrf_from(page.text), "link": "", "note": "看截图"},
        files={field: (name, data, content_type)} if data is not None else None,
    )


async def test_pages_need_a_signed_in_person(client: httpx.AsyncClient) -> None:
    for path in ("/tasks", "/me/tasks", "/review"):
        answer = await client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?next=" + path)


async def test_the_task_center_shows_cards_and_filters_by_type(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, unit_price=250)
    await browse_as(client, world, world.workers[0])
    page = await client.get("/tasks")
    assert page.status_code == 200
    assert f'data-task="{campaign.id}"' in page.text
    assert 'data-reward-fen="200"' in page.text
    assert "¥2.00" in page.text
    assert 'data-units-left="5"' in page.text
    assert 'href="/sandbox/@brand_official"' in page.text
    assert "data-nav-tasks" in page.text
    assert 'name="viewport"' in page.text
    likes = await client.get("/tasks?type=like")
    assert f'data-task="{campaign.id}"' not in likes.text
    assert 'data-reason="no_tasks_of_type"' in likes.text
    assert 'data-filter="like" aria-current="page"' in likes.text


async def test_an_empty_task_center_says_why_and_links_to_the_profile(
    client: httpx.AsyncClient, world: World
) -> None:
    await live_campaign(world)
    unbound = await add_worker(world, birth_year=None)
    await browse_as(client, world, unbound)
    page = await client.get("/tasks?lang=en")
    assert "data-empty" in page.text
    assert 'data-reason="age_unknown"' in page.text
    assert 'data-reason="no_bound_account"' in page.text
    assert 'href="/profile#platform" data-profile-link="no_bound_account"' in page.text
    assert "Add your birth year on your profile first." in page.text


async def test_claiming_from_the_task_page_pressed_twice_claims_once(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    await browse_as(client, world, world.workers[0])
    page = await client.get(f"/tasks/{campaign.id}")
    assert campaign.brief in page.text
    assert "data-disclosure" in page.text
    assert "data-claim-button" in page.text
    form = {"csrf_token": csrf_from(page.text), "form_id": form_id_from(page.text)}
    keyless = await client.post(
        f"/tasks/{campaign.id}/claim?lang=en", data={**form, "form_id": " "}
    )
    assert keyless.status_code == 422
    assert "This form is out of date" in keyless.text
    assert "data-claim-button" in keyless.text
    assert (await campaign_row(world, campaign.id)).units_open == 0
    first = await client.post(f"/tasks/{campaign.id}/claim", data=form)
    second = await client.post(f"/tasks/{campaign.id}/claim", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert (await campaign_row(world, campaign.id)).units_open == 1
    again = await client.get(f"/tasks/{campaign.id}")
    assert "data-continue-claim" in again.text
    assert "data-claim-button" not in again.text
    without_token = await client.post(f"/tasks/{campaign.id}/claim", data={"form_id": "x"})
    assert without_token.status_code == 403


async def claim_after_another(
    client: httpx.AsyncClient, world: World, campaign: Campaign
) -> httpx.Response:
    """The second worker opens the task, the first claims it, then the second presses
    the claim button on the page they opened before."""
    first, second = world.workers[:2]
    await browse_as(client, world, second)
    stale = await client.get(f"/tasks/{campaign.id}?lang=en")
    assert "data-claim-button" in stale.text
    await browse_as(client, world, first)
    await claim_in_page(client, campaign)
    await browse_as(client, world, second)
    return await client.post(
        f"/tasks/{campaign.id}/claim",
        data={"csrf_token": csrf_from(stale.text), "form_id": form_id_from(stale.text)},
    )


async def test_a_refused_claim_is_explained_on_the_page(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, quantity=1)
    answer = await claim_after_another(client, world, campaign)
    assert answer.status_code == 409
    assert 'class="notice error"' in answer.text
    assert "All of this campaign&#39;s tasks are taken." in answer.text
    assert 'data-claim-blocked="sold_out"' in answer.text
    outsider = await add_worker(world)
    await browse_as(client, world, outsider)
    page = await client.get(f"/tasks/{campaign.id}")
    assert 'data-claim-blocked="no_bound_account"' in page.text
    assert 'href="/profile#platform"' in page.text
    assert (await client.get(f"/tasks/{UUID(int=7)}")).status_code == 404


async def test_a_claim_ahead_of_the_plan_is_explained_with_when_the_next_one_opens(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, quantity=10)
    second = world.workers[1]
    answer = await claim_after_another(client, world, campaign)
    assert answer.status_code == 429
    assert 'class="notice error"' in answer.text
    assert 'data-claim-blocked="paced"' in answer.text
    assert "data-claim-button" not in answer.text
    async with world.db.sessionmaker() as s:
        view = await work.task_view(
            s, person=second, campaign_id=campaign.id, settings=world.settings
        )
    assert view.reason == "paced" and view.opens_at is not None
    when = local_time(view.opens_at)
    assert f"its next one opens at {when} (Beijing time)" in answer.text
    page = await client.get(f"/tasks/{campaign.id}?lang=zh")
    assert f"下一个任务将于 {when}（北京时间）开放" in page.text
    assert (await campaign_row(world, campaign.id)).units_open == 1


async def test_the_task_center_refreshes_its_cards_without_showing_the_feed_again(
    client: httpx.AsyncClient, world: World
) -> None:
    worker, other = world.workers[:2]
    going = await live_campaign(world, title="进行中", quantity=10, **window_nearly_over())
    last = await live_campaign(world, title="最后一个", quantity=1)
    paused = await live_campaign(world, title="已暂停")
    paced = await live_campaign(world, title="匀速", quantity=10)
    once = await live_campaign(world, title="每人一次", **window_nearly_over())
    await browse_as(client, world, worker)
    center = await client.get("/tasks?lang=en")
    for campaign in (going, last, paused, paced, once):
        assert f'data-task="{campaign.id}"' in center.text
    assert 'data-state-url="/tasks/state"' in center.text
    assert "data-feed-stale hidden" in center.text
    runtime_db = client.app.state.runtime.db  # type: ignore[attr-defined]
    await drain_exposures(runtime_db)
    async with world.db.sessionmaker() as s:
        shown_before = await s.scalar(select(func.count()).select_from(ShownFeed))
    assert shown_before == 1

    for campaign, who in ((going, other), (last, other), (paced, other), (once, worker)):
        async with world.db.session_scope() as s:
            await work.claim(s, person=who, campaign_id=campaign.id, settings=world.settings)
    await set_columns(world, Campaign, paused.id, status="paused")
    unknown = UUID(int=9)
    ids = ",".join(str(c.id) for c in (going, last, paused, paced, once)) + f",{unknown}"
    answer = await client.get(f"/tasks/state?ids={ids}&lang=en")
    assert answer.status_code == 200, answer.text
    tasks = answer.json()["tasks"]
    assert tasks[str(going.id)] == {
        "units_left": 9,
        "quantity": 10,
        "left_text": "9 of 10 left",
        "reason": None,
        "reason_text": None,
    }
    assert tasks[str(last.id)]["reason"] == "sold_out"
    assert tasks[str(last.id)]["reason_text"] == "All of this campaign's tasks are taken."
    assert tasks[str(paused.id)]["reason"] == "not_open"
    assert tasks[str(paced.id)]["reason"] == "paced"
    assert "(Beijing time)" in tasks[str(paced.id)]["reason_text"]
    assert tasks[str(once.id)]["reason"] == "limit_reached"
    assert tasks[str(unknown)]["reason"] == "not_open"
    chinese = (await client.get(f"/tasks/state?ids={last.id}&lang=zh")).json()
    assert chinese["tasks"][str(last.id)]["left_text"] == "剩余 0 / 1 个"
    # Asking is not the feed being shown again (no exposure logged, nothing learned).
    await drain_exposures(runtime_db)
    async with world.db.sessionmaker() as s:
        shown_after = await s.scalar(select(func.count()).select_from(ShownFeed))
    assert shown_after == shown_before

    bad = await client.get("/tasks/state?ids=not-an-id&lang=en")
    assert bad.status_code == 422
    assert "Ask for tasks by their ids." in bad.text


async def test_do_a_follow_task_and_see_it_approved(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    await browse_as(client, world, world.workers[0])
    assignment_id = await claim_in_page(client, campaign)
    page = await client.get(f"/me/tasks/{assignment_id}")
    assert 'href="/sandbox/@brand_official" data-step-target' in page.text
    assert 'accept="image/*"' in page.text
    assert 'capture="environment"' in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert "data-deadline" in page.text
    await act_like_a_person(world, assignment_id, follow=True)
    answer = await submit_in_page(client, assignment_id, screenshot())
    assert answer.status_code == 303, answer.text
    done = await client.get(f"/me/tasks/{assignment_id}")
    assert 'data-assignment-status="approved"' in done.text
    assert 'data-verification="verified"' in done.text
    assert 'data-review-reason="platform_verified"' in done.text
    assert "data-hold-until" in done.text
    assert "data-evidence-image" in done.text
    assert "data-submission-form" not in done.text


async def approved_in_page(client: httpx.AsyncClient, world: World, worker: Person) -> str:
    """A follow task the worker claimed and handed in on the pages, approved by the
    platform's check and now in its hold."""
    campaign = await live_campaign(world)
    await browse_as(client, world, worker)
    assignment_id = await claim_in_page(client, campaign)
    await act_like_a_person(world, assignment_id, follow=True)
    assert (await submit_in_page(client, assignment_id, screenshot())).status_code == 303
    return assignment_id


async def test_a_worker_checks_in_the_hold_that_the_action_is_still_there(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    assignment_id = await approved_in_page(client, world, worker)
    page = await client.get(f"/me/tasks/{assignment_id}")
    assert "data-hold-check-link" in page.text and "data-hold-check=" not in page.text
    kept = await client.get(f"/me/tasks/{assignment_id}?check=1")
    assert 'data-hold-check="released"' in kept.text
    assert "平台仍能查到" in kept.text
    # Unfollowed by mistake: told in time, with the hold's end, and that doing it again helps.
    await unfollow_on_sandbox(await handle_of(world, worker), world.db)
    undone = await client.get(f"/me/tasks/{assignment_id}?check=1")
    assert 'data-hold-check="clawed_back"' in undone.text
    assert 'href="/sandbox/@brand_official" data-redo-link' in undone.text  # back to the target
    assert 'data-hold-check-detail="no_follow"' in undone.text
    row = await assignment_row(world, assignment_id)
    assert row.hold_until is not None
    assert local_time(row.hold_until) in undone.text
    auth = await bearer(world, worker)
    said = await client.get(f"/api/v1/me/assignments/{assignment_id}/check", headers=auth)
    assert said.status_code == 200, said.text
    assert {k: said.json()[k] for k in ("status", "detail", "at_hold_end", "settle_reason")} == {
        "status": "absent",
        "detail": "no_follow",
        "at_hold_end": "clawed_back",
        "settle_reason": "undone_no_follow",
    }
    await follow_on_sandbox(await handle_of(world, worker), world.db)
    again = await client.get(f"/api/v1/me/assignments/{assignment_id}/check", headers=auth)
    assert (again.json()["at_hold_end"], again.json()["settle_reason"]) == ("released", "retained")
    # Asking moved nothing (the answer is only kept), and the hold's end then finds the
    # follow and releases.
    assert (await assignment_row(world, assignment_id)).status == "approved"
    async with world.db.session_scope() as s:
        assert await work.settle_hold(s, UUID(assignment_id), now=row.hold_until) == "released"
    settled = await assignment_row(world, assignment_id)
    assert (settled.status, settled.settle_reason) == ("released", "retained")
    # A paid task has nothing left to check.
    late = await client.get(f"/api/v1/me/assignments/{assignment_id}/check", headers=auth)
    assert late.status_code == 409, late.text
    assert "data-hold-check-link" not in (await client.get(f"/me/tasks/{assignment_id}")).text


async def test_the_hold_is_checked_on_its_own_and_the_worker_sees_what_was_found(
    client: httpx.AsyncClient, world: World
) -> None:
    worker = world.workers[0]
    assignment_id = await approved_in_page(client, world, worker)
    row = await assignment_row(world, assignment_id)
    assert row.submitted_at is not None and row.hold_until is not None
    # Looked at every third of the hold: not before a third has passed since the hand-in.
    every = (row.hold_until - row.submitted_at) / 3
    early = row.submitted_at + every - timedelta(seconds=1)
    async with world.db.sessionmaker() as s:
        assert await work.holds_to_check(s, now=early, every=every) == []
    await unfollow_on_sandbox(await handle_of(world, worker), world.db)
    looked = row.submitted_at + every + timedelta(seconds=1)
    async with world.db.session_scope() as s:
        assert await work.holds_to_check(s, now=looked, every=every) == [UUID(assignment_id)]
        assert await work.check_hold(s, UUID(assignment_id), now=looked) == "clawed_back"
    async with world.db.sessionmaker() as s:
        # Looked at: not again for another third.
        assert await work.holds_to_check(s, now=looked + every / 2, every=every) == []
    # What was found waits for the worker: on the list, on the task's page, in the API.
    listed = await client.get("/me/tasks")
    assert "data-hold-at-risk" in listed.text
    page = await client.get(f"/me/tasks/{assignment_id}")
    assert 'data-hold-check="clawed_back"' in page.text and "data-hold-checked-at" in page.text
    assert local_time(looked) in page.text
    assert "data-hold-check-link" in page.text  # and a way to ask again
    auth = await bearer(world, worker)
    read = (await client.get(f"/api/v1/me/assignments/{assignment_id}", headers=auth)).json()
    assert (read["hold_check"]["at_hold_end"], read["hold_check"]["detail"]) == (
        "clawed_back",
        "no_follow",
    )
    # Done again and checked by the worker: the warning goes.
    await follow_on_sandbox(await handle_of(world, worker), world.db)
    assert (
        'data-hold-check="released"'
        in (await client.get(f"/me/tasks/{assignment_id}?check=1")).text
    )
    assert "data-hold-at-risk" not in (await client.get("/me/tasks")).text
    kept = (await assignment_row(world, assignment_id)).hold_check
    assert kept is not None and kept["settle_reason"] == "retained"


async def test_the_task_s_page_says_how_long_to_watch_or_stay(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    await browse_as(client, world, world.workers[0])
    assignment_id = await claim_in_page(client, campaign)
    plain = await client.get(f"/me/tasks/{assignment_id}")
    assert "data-min-stay" not in plain.text and "data-min-watch" not in plain.text
    # The condition the platform checks, where the worker does the task (a live room's
    # stay, a video's watch before the like), not only on the task's card.
    await set_columns(world, Campaign, campaign.id, min_stay_seconds=90, min_watch_seconds=15)
    page = await client.get(f"/me/tasks/{assignment_id}?lang=zh")
    assert 'data-min-stay="90"' in page.text and 'data-min-watch="15"' in page.text
    assert "至少停留 90 秒" in page.text, page.text


async def test_the_camera_field_is_used_when_the_gallery_field_is_empty(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    await browse_as(client, world, world.workers[0])
    assignment_id = await claim_in_page(client, campaign)
    answer = await submit_in_page(client, assignment_id, screenshot(), field="photo")
    assert answer.status_code == 303, answer.text
    row = await assignment_row(world, assignment_id)
    assert (row.status, row.evidence_note) == ("submitted", "看截图")
    assert row.evidence_file_id is not None


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"%PDF-1.7 not a picture", 415, "not a picture we can read"),
        (None, 422, "Upload a screenshot, or give a link."),
    ],
    ids=["not-an-image", "nothing"],
)
async def test_a_bad_submission_is_explained_beside_the_form(
    client: httpx.AsyncClient, world: World, data: bytes | None, status: int, words: str
) -> None:
    campaign = await live_campaign(world)
    await browse_as(client, world, world.workers[0])
    assignment_id = await claim_in_page(client, campaign)
    client.cookies.set("xd_lang", "en")
    answer = await submit_in_page(client, assignment_id, data, name="doc.pdf")
    assert answer.status_code == status
    assert 'class="notice error"' in answer.text
    assert words in answer.text
    assert "data-submission-form" in answer.text
    assert 'value="看截图"' not in answer.text  # the note is kept in its textarea
    assert ">看截图</textarea>" in answer.text
    assert (await assignment_row(world, assignment_id)).status == "claimed"
    assert await evidence_count(world) == 0


async def test_an_expired_claim_says_so_and_refuses_evidence(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    await browse_as(client, world, world.workers[0])
    client.cookies.set("xd_lang", "en")
    assignment_id = await claim_in_page(client, campaign)
    form_page = await client.get(f"/me/tasks/{assignment_id}")
    await set_columns(
        world, Assignment, UUID(assignment_id), expires_at=utcnow() - timedelta(seconds=1)
    )
    page = await client.get(f"/me/tasks/{assignment_id}")
    assert "data-claim-expired" in page.text
    assert "data-submission-form" not in page.text
    answer = await client.post(
        f"/me/tasks/{assignment_id}/submission",
        data={"csrf_token": csrf_from(form_page.text)},
        files={"file": ("shot.png", screenshot(), "image/png")},
    )
    assert answer.status_code == 409
    assert "Your claim has expired; the task went back to the pool." in answer.text
    assert await evidence_count(world) == 0


async def test_my_tasks_lists_statuses_and_pages(client: httpx.AsyncClient, world: World) -> None:
    campaign = await live_campaign(world, quantity=22, per_person_limit=22, **window_nearly_over())
    worker = world.workers[0]
    await browse_as(client, world, worker)
    ids = []
    for _ in range(21):
        async with world.db.session_scope() as s:
            made = await work.claim(
                s, person=worker, campaign_id=campaign.id, settings=world.settings
            )
            ids.append(str(made.id))
    first = await client.get("/me/tasks")
    assert first.text.count("data-assignment=") == 20
    assert f'data-assignment="{ids[-1]}"' in first.text
    assert 'data-status="claimed"' in first.text
    match = re.search(r'href="([^"]+)" rel="next" data-next-page', first.text)
    assert match
    second = await client.get(match.group(1).replace("&amp;", "&"))
    assert second.text.count("data-assignment=") == 1
    assert f'data-assignment="{ids[0]}"' in second.text
    assert "data-next-page" not in second.text
    expired = await client.get("/me/tasks?status=expired")
    assert "data-empty" in expired.text
    other: Person = world.workers[1]
    await browse_as(client, world, other)
    assert (await client.get(f"/me/tasks/{ids[0]}")).status_code == 404


async def test_a_rejected_task_shows_the_reason_and_takes_an_appeal(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world, review_policy="manual")
    worker = world.workers[0]
    await browse_as(client, world, worker)
    assignment_id = await claim_in_page(client, campaign)
    await act_like_a_person(world, assignment_id, follow=False)
    assert (await submit_in_page(client, assignment_id, screenshot())).status_code == 303
    await browse_as(client, world, world.reviewer)
    bench = await client.get("/review")
    decided = await client.post(
        f"/review/{assignment_id}/decision",
        data={
            "csrf_token": csrf_from(bench.text),
            "decision": "reject",
            "reason": "action_not_done",
            "note": "没看到关注",
        },
    )
    assert decided.status_code == 303
    await browse_as(client, world, worker)
    page = await client.get(f"/me/tasks/{assignment_id}")
    assert 'data-assignment-status="rejected"' in page.text
    assert 'data-review-reason="action_not_done"' in page.text
    assert "没看到关注" in page.text
    assert "data-appeal-form" in page.text
    # Asked first: there is one appeal.
    button = page.text.split("data-appeal-button", 1)[1].split(">", 1)[0]
    assert "data-confirm=" in button and "只能申诉一次" in html.unescape(button)
    empty = await client.post(
        f"/me/tasks/{assignment_id}/appeal", data={"csrf_token": csrf_from(page.text)}
    )
    assert empty.status_code == 422
    assert 'data-error-for="reason"' in empty.text
    # Too long is refused, not cut (the page cut it before the service could say so); an
    # escape sequence, which the operator's screen would act on, is refused too.
    for reason in ("我" * 501, "不服\x1b[31m"):
        refused = await client.post(
            f"/me/tasks/{assignment_id}/appeal",
            data={"csrf_token": csrf_from(page.text), "reason": reason},
        )
        assert refused.status_code == 422 and 'data-error-for="reason"' in refused.text
    sent = await client.post(
        f"/me/tasks/{assignment_id}/appeal",
        data={"csrf_token": csrf_from(page.text), "reason": "我关注了，请再看看"},
    )
    assert sent.status_code == 303
    after = await client.get(f"/me/tasks/{assignment_id}")
    assert 'data-assignment-status="disputed"' in after.text
    assert 'data-dispute="open"' in after.text
    assert "data-appeal-form" not in after.text

    # Dismissed: the page says so and why, and offers no second appeal.
    await browse_as(client, world, world.operator)
    queue = await client.get("/ops/disputes")
    assert "data-overrules" in queue.text
    assert 'href="/ops/people/' in queue.text.split("data-dispute-person", 1)[0].rsplit("<a", 1)[1]
    dispute_id = queue.text.split('data-dispute="', 1)[1].split('"', 1)[0]
    dismissed = await client.post(
        f"/ops/disputes/{dispute_id}/decision",
        data={"csrf_token": csrf_from(queue.text), "decision": "dismiss", "note": "截图里没有关注"},
    )
    assert dismissed.status_code == 303
    await browse_as(client, world, worker)
    final = await client.get(f"/me/tasks/{assignment_id}")
    assert 'data-assignment-status="rejected"' in final.text
    assert 'data-dispute="dismissed"' in final.text
    assert "截图里没有关注" in final.text
    assert "data-decision-stands" in final.text
    assert "data-appeal-form" not in final.text


async def test_the_workbench_orders_by_risk_and_shows_the_evidence(
    client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = await live_campaign(world, review_policy="manual", **window_nearly_over())
    ids = []
    for index, follows in enumerate((True, False)):
        await browse_as(client, world, world.workers[index])
        assignment_id = await claim_in_page(client, campaign)
        await act_like_a_person(world, assignment_id, follow=follows)
        assert (
            await submit_in_page(client, assignment_id, screenshot(seed=index))
        ).status_code == 303
        ids.append(assignment_id)
    verified, unverified = ids

    await browse_as(client, world, world.workers[0])
    assert (await client.get("/review")).status_code == 403
    await browse_as(client, world, world.reviewer)
    bench = await client.get("/review")
    assert bench.status_code == 200
    # The unverified one carries a risk reason, so it comes first and is shown.
    assert f'data-current="{unverified}"' in bench.text
    order = re.findall(r'data-queue-item="([0-9a-f-]+)"', bench.text)
    assert order == [unverified, verified]
    # A queue longer than the workbench shows says how many wait in all.
    monkeypatch.setattr(work_pages, "REVIEW_SHOWN", 1)
    narrow = await client.get("/review?lang=en")
    assert 'data-queue-size="2"' in narrow.text and "2 waiting" in narrow.text
    assert narrow.text.count("data-queue-item=") == 1
    assert "Showing 1 of 2." in narrow.text
    monkeypatch.undo()
    file_id = (await assignment_row(world, unverified)).evidence_file_id
    assert f'<img src="/evidence/{file_id}"' in bench.text
    assert 'data-risk-reason="platform_no_follow"' in bench.text
    assert 'data-verification="absent"' in bench.text
    for number in range(1, len(REJECT_REASONS) + 1):
        assert f'data-reject-reason="{number}"' in bench.text
    assert f'href="/review?item={verified}" data-next' in bench.text
    assert "/static/workbench.js" in bench.text
    assert 'name="ids" value="' + verified + '"' in bench.text
    assert 'name="ids" value="' + unverified + '"' not in bench.text
    second = await client.get(f"/review?item={verified}")
    assert f'data-current="{verified}"' in second.text
    assert 'data-verification="verified"' in second.text
    assert f'href="/review?item={unverified}" data-prev' in second.text
    assert (await client.get(f"/evidence/{file_id}")).status_code == 200

    no_reason = await client.post(
        f"/review/{unverified}/decision",
        data={"csrf_token": csrf_from(bench.text), "decision": "reject"},
    )
    assert no_reason.status_code == 422
    assert 'class="notice error"' in no_reason.text
    assert (await assignment_row(world, unverified)).status == "submitted"
    # The worker reads the note: too long is refused, not cut, and what was typed stays;
    # an escape sequence in it is refused too.
    for note, said in (("太长" * 251, "500"), ("看不清\x1b[31m", "control characters")):
        refused = await client.post(
            f"/review/{unverified}/decision",
            data={
                "csrf_token": csrf_from(bench.text),
                "decision": "reject",
                "reason": "other",
                "note": note,
            },
        )
        assert refused.status_code == 422 and said in refused.text, said
        assert 'data-error-for="note"' in refused.text
        assert (await assignment_row(world, unverified)).status == "submitted"
        if said == "500":
            assert "太长" * 251 in refused.text  # kept in its field, whole

    nothing = await client.post(
        "/review/bulk-approve", data={"csrf_token": csrf_from(bench.text), "ids": ["x"]}
    )
    assert nothing.status_code == 303 and "tone=info" in nothing.headers["location"]
    told = await client.get(nothing.headers["location"])
    assert "data-bulk-result" not in told.text and "Nothing was selected" in told.text
    # Ids of nothing in the queue are neither approved nor left for a reviewer.
    strangers = await client.post(
        "/review/bulk-approve",
        data={"csrf_token": csrf_from(bench.text), "ids": [str(uuid4()), str(uuid4())]},
    )
    assert strangers.headers["location"] == "/review?approved=0&left=0"
    bulk = await client.post(
        "/review/bulk-approve",
        data={"csrf_token": csrf_from(bench.text), "ids": [verified, unverified]},
    )
    assert bulk.status_code == 303
    assert bulk.headers["location"] == "/review?approved=1&left=1"
    summary = await client.get(bulk.headers["location"])
    assert 'data-bulk-result="1"' in summary.text
    assert (await assignment_row(world, verified)).status == "approved"
    assert (await assignment_row(world, unverified)).status == "submitted"

    approved = await client.post(
        f"/review/{unverified}/decision",
        data={
            "csrf_token": csrf_from(bench.text),
            "decision": "approve",
            "approve_reason": "meets_requirements",
        },
    )
    assert approved.status_code == 303
    twice = await client.post(
        f"/review/{unverified}/decision",
        data={"csrf_token": csrf_from(bench.text), "decision": "reject", "reason": "other"},
    )
    assert twice.status_code == 409
    empty = await client.get("/review")
    assert "data-queue-empty" in empty.text
    row = await assignment_row(world, unverified)
    assert (row.status, row.reviewed_by) == ("approved", world.reviewer.id)


async def test_the_workbench_narrows_the_queue_and_keeps_the_filter_while_deciding(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(
        world, title="关注新品官方号", review_policy="manual", **window_nearly_over()
    )
    ids = []
    for index, follows in enumerate((True, False)):
        await browse_as(client, world, world.workers[index])
        assignment_id = await claim_in_page(client, campaign)
        await act_like_a_person(world, assignment_id, follow=follows)
        await submit_in_page(client, assignment_id, screenshot(seed=index))
        ids.append(assignment_id)
    verified, unverified = ids
    verified_handle = (await assignment_row(world, verified)).actor_handle
    assert verified_handle is not None

    await browse_as(client, world, world.reviewer)

    async def queue_of(**query: str) -> tuple[list[str], str]:
        page = await client.get("/review", params={"lang": "en", **query})
        assert page.status_code == 200
        return re.findall(r'data-queue-item="([0-9a-f-]+)"', page.text), page.text

    assert (await queue_of())[0] == [unverified, verified]
    assert (await queue_of(check="verified"))[0] == [verified]
    assert (await queue_of(check="absent"))[0] == [unverified]
    assert (await queue_of(check="none"))[0] == []
    assert (await queue_of(q="新品"))[0] == [unverified, verified]
    assert (await queue_of(q="@" + verified_handle))[0] == [verified]
    async with world.db.sessionmaker() as s:
        org = await s.get(Organisation, world.org_id)
        assert org is not None
    assert (await queue_of(q=org.name))[0] == [unverified, verified]
    assert (await queue_of(type="follow", risk="low", check="verified"))[0] == [verified]
    # The platform found no follow for the second: the risk checks flag it.
    assert (await assignment_row(world, unverified)).risk_score >= HIGH_RISK_SCORE
    assert (await assignment_row(world, verified)).risk_score < HIGH_RISK_SCORE
    assert (await queue_of(risk="high"))[0] == [unverified]
    assert (await queue_of(risk="low"))[0] == [verified]

    # Narrowed to nothing: said so, with the way back to the whole queue.
    ids_found, empty = await queue_of(type="comment")
    assert ids_found == []
    assert "Nothing waiting fits this filter." in empty
    assert "Show the whole queue (2 waiting)" in empty
    assert 'data-queue-size="0"' in empty and "0 of 2 waiting fit the filter" in empty
    # A hand-edited value is left out rather than refused.
    assert (await queue_of(type="nonsense", check="maybe"))[0] == [unverified, verified]

    # The filter rides along: the queue's links, a decision and the bulk approval keep it.
    _, narrowed = await queue_of(check="verified")
    assert 'data-queue-size="1"' in narrowed and "1 of 2 waiting fit the filter" in narrowed
    assert f'href="/review?item={verified}&amp;check=verified" data-queue-item' in narrowed
    assert '<input type="hidden" name="check" value="verified">' in narrowed
    bulk = await client.post(
        "/review/bulk-approve",
        data={"csrf_token": csrf_from(narrowed), "ids": [verified], "check": "verified"},
    )
    assert bulk.headers["location"] == "/review?check=verified&approved=1&left=0"
    assert (await assignment_row(world, verified)).status == "approved"
    _, flagged = await queue_of(check="absent")
    decided = await client.post(
        f"/review/{unverified}/decision",
        data={
            "csrf_token": csrf_from(flagged),
            "decision": "reject",
            "reason": "action_not_done",
            "check": "absent",
        },
    )
    assert decided.status_code == 303
    assert decided.headers["location"].startswith("/review?check=absent&done=")
    assert (await assignment_row(world, unverified)).status == "rejected"


async def test_the_platform_can_be_asked_before_the_final_hand_in(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    await browse_as(client, world, worker)
    assignment_id = await claim_in_page(client, campaign)
    await act_like_a_person(world, assignment_id, follow=False)
    page = await client.get(f"/me/tasks/{assignment_id}")
    assert "data-precheck-link" in page.text and "data-precheck=" not in page.text
    before = await client.get(f"/me/tasks/{assignment_id}?check=1")
    assert 'data-precheck="absent"' in before.text
    assert 'data-precheck-detail="no_follow"' in before.text
    await act_like_a_person(world, assignment_id, follow=True)
    after = await client.get(f"/me/tasks/{assignment_id}?check=1")
    assert 'data-precheck="verified"' in after.text
    # Looking hands nothing in.
    row = await assignment_row(world, assignment_id)
    assert (row.status, row.submitted_at, row.verification) == ("claimed", None, {})
    # The API asks the same.
    auth = await bearer(world, worker)
    said = await client.get(f"/api/v1/me/assignments/{assignment_id}/check", headers=auth)
    assert said.status_code == 200, said.text
    assert (said.json()["status"], said.json()["detail"]) == ("verified", "follow_found")


async def test_an_expired_claim_s_page_offers_a_way_on(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    await browse_as(client, world, worker)
    assignment_id = await claim_in_page(client, campaign)
    row = await assignment_row(world, assignment_id)
    async with world.db.session_scope() as s:
        assert await work.expire_claims(s, now=row.expires_at + timedelta(seconds=1)) == 1
    page = await client.get(f"/me/tasks/{assignment_id}")
    assert 'data-assignment-status="expired"' in page.text
    assert "data-claim-expired" in page.text
    assert f'href="/tasks/{campaign.id}"' in page.text and 'href="/tasks"' in page.text
    # Asking the platform about it now is refused with a reason.
    late = await client.get(
        f"/api/v1/me/assignments/{assignment_id}/check", headers=await bearer(world, worker)
    )
    assert late.status_code == 409, late.text


async def test_a_claim_can_be_given_up_and_its_unit_goes_back(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    await browse_as(client, world, worker)
    assignment_id = await claim_in_page(client, campaign)
    assert (await campaign_row(world, campaign.id)).units_open == 1
    # Held, it is not in the task center (one a person)...
    assert f'data-task="{campaign.id}"' not in (await client.get("/tasks")).text
    page = await client.get(f"/me/tasks/{assignment_id}")
    assert "data-give-up" in page.text
    given = await client.post(
        f"/me/tasks/{assignment_id}/give-up", data={"csrf_token": csrf_from(page.text)}
    )
    assert given.status_code == 303
    after = await client.get(given.headers["location"])
    assert "data-given-up" in after.text and "data-give-up" not in after.text
    assert after.text.count("你已放弃该任务") == 1  # said once, where the ways on are
    # Said as what the worker did, not as if time ran out.
    assert '<span class="badge badge-expired" data-status="expired">已放弃</span>' in after.text
    listed = await client.get("/me/tasks?status=expired")
    assert 'data-status="expired">已放弃</span>' in listed.text
    row = await assignment_row(world, assignment_id)
    assert (row.status, row.settle_reason) == ("expired", "given_up")
    assert (await campaign_row(world, campaign.id)).units_open == 0
    # ...and given up, it is back there: the claim no longer counts against the limit of
    # one, so it can be taken again.
    assert f'data-task="{campaign.id}"' in (await client.get("/tasks")).text
    again = await claim_in_page(client, campaign)
    assert again != assignment_id
    # Only an open claim can be given up.
    auth = await bearer(world, worker)
    twice = await client.post(f"/api/v1/me/assignments/{assignment_id}/give-up", headers=auth)
    assert twice.status_code == 409 and twice.json()["code"] == "assignment_state"
    by_api = await client.post(f"/api/v1/me/assignments/{again}/give-up", headers=auth)
    assert by_api.status_code == 200, by_api.text
    body = by_api.json()
    assert (body["status"], body["settle_reason"]["code"]) == ("expired", "given_up")
    other = await bearer(world, world.workers[1])
    stranger = await client.post(f"/api/v1/me/assignments/{again}/give-up", headers=other)
    assert stranger.status_code == 404


async def test_a_creator_under_contract_sees_what_they_keep_of_each_reward(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    creator = world.workers[0]
    await sign_with_agency(world, creator, name="星光 MCN", share_percent=20)
    reward = campaign.reward
    kept = reward - reward * 20 // 100
    await browse_as(client, world, creator)
    center = (await client.get("/tasks?lang=en")).text
    card = center.split(f'data-task="{campaign.id}"', 1)[1].split("</li>", 1)[0]
    assert f'data-kept-fen="{kept}"' in card
    assert f"You keep ¥{kept / 100:.2f}: 星光 MCN takes 20% under your contract." in card
    task = (await client.get(f"/tasks/{campaign.id}?lang=en")).text
    assert f'data-kept-fen="{kept}"' in task
    wallet = (await client.get("/wallet?lang=en")).text
    assert 'data-agency-cut="20"' in wallet and "星光 MCN" in wallet
    # Someone without an agency is told nothing of the kind.
    await browse_as(client, world, world.workers[1])
    assert "data-agency-cut" not in (await client.get("/tasks")).text
    assert "data-agency-cut" not in (await client.get("/wallet")).text


async def test_a_task_taken_as_often_as_allowed_leads_to_the_worker_s_own(
    client: httpx.AsyncClient, world: World
) -> None:
    campaign = await live_campaign(world)
    worker = world.workers[0]
    async with world.db.session_scope() as s:
        held = await work.claim(s, person=worker, campaign_id=campaign.id, settings=world.settings)
    await browse_as(client, world, worker)
    open_claim = (await client.get(f"/tasks/{campaign.id}")).text
    assert "data-continue-claim" in open_claim and "data-my-latest" not in open_claim
    await set_columns(world, Assignment, held.id, status="submitted", submitted_at=utcnow())
    page = (await client.get(f"/tasks/{campaign.id}?lang=en")).text
    assert 'data-claim-blocked="limit_reached"' in page
    assert f'href="/me/tasks/{held.id}" data-my-latest' in page


async def test_a_reviewer_reads_the_comment_as_the_platform_shows_it(
    client: httpx.AsyncClient, world: World
) -> None:
    async with world.db.session_scope() as s:
        brand = await sandbox.get_account(s, handle=BRAND_HANDLE)
        video = await sandbox.post_video(s, account=brand, title="新品上脸实测", description="")
    campaign = await live_campaign(
        world,
        title="评论新品视频",
        task_type="comment",
        target=str(video.id),
        brief="看完视频后发表评论，说说你的感受。",
        comment_guidance="可以聊聊质地和香味",
        review_policy="manual",
    )
    worker = world.workers[0]
    await browse_as(client, world, worker)
    assignment_id = await claim_in_page(client, campaign)
    await act_like_a_person(world, assignment_id, follow=False)
    said = "质地很轻薄 <b>喜欢</b>"
    async with world.db.session_scope() as s:
        account = await sandbox.get_account(s, handle=await handle_of(world, worker))
        await sandbox.comment(s, account=account, video=video, text=said)
    assert (await submit_in_page(client, assignment_id, screenshot())).status_code == 303
    await browse_as(client, world, world.reviewer)
    bench = (await client.get(f"/review?item={assignment_id}&lang=en")).text
    shown = bench.split("data-platform-comment>", 1)[1].split("</blockquote>", 1)[0]
    assert "The comment on the platform:" in shown
    assert html.escape(said, quote=False) in shown  # as text, never as markup
    # Erased with the worker's account: what they wrote goes.
    async with world.db.session_scope() as s:
        await work.forget_worker_details(s, person_id=worker.id)
    row = await assignment_row(world, assignment_id)
    assert "comment_text" not in row.verification and row.verification["status"] == "verified"
