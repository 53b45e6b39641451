"""The real server process: what only a server on a socket shows."""

from __future__ import annotations

import itertools

import httpx

_phones = itertools.count(15500000000)


def test_a_change_is_committed_before_its_answer_leaves(site: str) -> None:
    """The next request, sent the moment an answer arrives, always sees the change: a code
    just sent can be used at once."""
    with httpx.Client(base_url=site) as http:
        for _ in range(40):
            phone = str(next(_phones))
            code = http.post("/api/v1/auth/sms-codes", json={"phone": phone}).json()["code"]
            response = http.post(
                "/api/v1/auth/register",
                json={"phone": phone, "code": code, "password": "goodPass2026"},
            )
            assert response.status_code == 201, response.text


def test_the_in_process_worker_runs_jobs(site: str, database_url: str) -> None:
    """``serve`` runs a job worker: a purge job made due now is done within seconds."""
    import time

    import psycopg

    from xingdong.core.db import libpq_url

    with httpx.Client(base_url=site) as http:
        http.post("/api/v1/auth/sms-codes", json={"phone": str(next(_phones))})
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("UPDATE sms_codes SET expires_at = now() - interval '1 second'")
        conn.execute("UPDATE procrastinate_jobs SET scheduled_at = now()")
        # Wake the worker as a fresh deferral would.
        conn.execute(
            "SELECT pg_notify('procrastinate_any_queue_v1', '{\"type\": \"job_inserted\"}')"
        )
        deadline = time.monotonic() + 15
        remaining = None
        while time.monotonic() < deadline:
            remaining = conn.execute("SELECT count(*) FROM sms_codes").fetchone()
            if remaining == (0,):
                break
            time.sleep(0.2)
    assert remaining == (0,)
