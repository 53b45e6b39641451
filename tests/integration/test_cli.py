"""The ``xingdong`` command: staff accounts and clear one-line errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from typer.testing import CliRunner

from xingdong.cli import app
from xingdong.core.db import libpq_url
from xingdong.core.settings import get_settings

runner = CliRunner()


@pytest.fixture
def cli_db(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XINGDONG_DATABASE_URL", clean_db)
    get_settings.cache_clear()
    yield clean_db
    get_settings.cache_clear()


def staff_roles(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT p.phone, g.role FROM staff_grants g JOIN people p ON p.id = g.person_id "
            "ORDER BY g.role"
        ).fetchall()
    return [(phone, role) for phone, role in rows]


def test_create_staff_grant_and_revoke(cli_db: str) -> None:
    created = runner.invoke(
        app,
        ["admin", "create-staff", "--phone", "13700000001", "--role", "reviewer",
         "--name", "审核员", "--password", "reviewPass1"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    granted = runner.invoke(app, ["admin", "grant", "--phone", "13700000001", "--role", "operator"])
    assert granted.exit_code == 0
    assert "granted" in granted.output
    assert staff_roles(cli_db) == [("+8613700000001", "operator"), ("+8613700000001", "reviewer")]
    again = runner.invoke(app, ["admin", "grant", "--phone", "13700000001", "--role", "operator"])
    assert "already held" in again.output
    revoked = runner.invoke(
        app, ["admin", "revoke", "--phone", "13700000001", "--role", "operator"]
    )
    assert revoked.exit_code == 0
    assert staff_roles(cli_db) == [("+8613700000001", "reviewer")]
    with psycopg.connect(libpq_url(cli_db)) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == [
        "identity.staff_granted",
        "identity.staff_granted",
        "identity.staff_granted",
        "identity.staff_revoked",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["admin", "grant", "--phone", "123", "--role", "admin"], "mainland China mobile"),
        (["admin", "grant", "--phone", "13700000009", "--role", "admin"], "No account"),
        (["admin", "grant", "--phone", "13700000009", "--role", "boss"], "reviewer, operator"),
        (["admin", "create-staff", "--phone", "13700000002", "--role", "admin",
          "--password", "weak"], "password: Use at least 8"),
        (["admin", "create-staff", "--phone", "13700000002", "--role", "admin",
          "--password", "reviewPass1", "--name", "审" * 41], "display_name: Use at most 40"),
        (["admin", "create-staff", "--phone", "13700000002", "--role", "admin",
          "--password", "reviewPass1", "--name", "审核\x1b[2J员"], "display_name: Remove the"),
        (["admin", "create-staff", "--phone", "13700000002", "--role", "boss",
          "--password", "reviewPass1", "--name", "审核员"], "reviewer, operator"),
    ],
    ids=["bad-phone", "no-account", "bad-role", "weak-password", "long-name",
         "name-with-escape", "new-staff-bad-role"],
)  # fmt: skip
def test_bad_input_is_one_line_and_a_non_zero_exit(
    cli_db: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.strip().count("\n") == 0
    assert staff_roles(cli_db) == []
    with psycopg.connect(libpq_url(cli_db)) as conn:
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (0,)


def set_revision(url: str, revision: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = %s", (revision,))


def test_db_upgrade_builds_an_empty_database(empty_db: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(libpq_url(empty_db)) as conn:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables")}
    assert version is not None
    assert {"people", "organisations", "procrastinate_jobs", "audit_log"} <= tables
    # A database a newer release migrated (the code rolled back): one line, not
    # Alembic's traceback.
    set_revision(empty_db, "20990101_newer")
    newer = runner.invoke(app, ["db", "upgrade"])
    assert newer.exit_code == 1
    assert newer.output.strip().count("\n") == 0
    assert newer.output.startswith(
        "error: cannot upgrade: Can't locate revision identified by '20990101_newer'"
    )
    assert "newer release" in newer.output


def schema_commands() -> list[list[str]]:
    """The commands that read the schema (the server on a port nothing holds)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return [
        ["admin", "grant", "--phone", "13700000001", "--role", "admin"],
        ["admin", "revoke", "--phone", "13700000001", "--role", "admin"],
        ["ledger", "verify"],
        ["ledger", "reconcile"],
        ["risk", "scan"],
        ["risk", "export", "--out", os.devnull],
        ["dispatch", "seed-prices"],
        ["jobs", "list"],
        ["jobs", "run-again", "1", "--yes"],
        ["worker"],
        ["serve", "--port", str(port)],
    ]


def test_commands_on_a_database_not_migrated_say_to_upgrade_it(empty_db: str) -> None:
    """Every command that reads the schema, on a database never migrated and on one a
    release behind: one line saying what to run (each was a traceback of its first
    query), and nothing written."""
    from xingdong.core.migrate import schema_standing

    for args in schema_commands():
        answer = runner.invoke(app, args)
        assert answer.exit_code == 1, (args, answer.output)
        assert answer.output.strip().splitlines()[-1] == (
            "error: the database has no tables yet: run `xingdong db upgrade` first"
        ), args
    with psycopg.connect(libpq_url(empty_db)) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    head = schema_standing(empty_db).heads[0]
    set_revision(empty_db, "e3b5d7f9a1c2")  # the one before the newest
    assert schema_standing(empty_db).behind
    for args in schema_commands():
        answer = runner.invoke(app, args)
        assert answer.exit_code == 1, (args, answer.output)
        assert answer.output.strip().splitlines()[-1] == (
            f"error: the database is at revision e3b5d7f9a1c2 and this release needs "
            f"{head}: run `xingdong db upgrade` first"
        ), args
    # Up to date, a command works; a newer release's revision is said and gone past
    # (a rolling deployment: the older release's commands still run).
    set_revision(empty_db, head)
    assert runner.invoke(app, ["ledger", "verify"]).exit_code == 0
    set_revision(empty_db, "20990101_newer")
    newer = runner.invoke(app, ["ledger", "verify"])
    assert newer.exit_code == 0, newer.output
    assert newer.output.startswith(
        "warning: the database is at revision 20990101_newer, which this release does not "
        "have (a newer release migrated it); going on"
    )
    assert "ledger OK" in newer.output


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINGDONG_DATABASE_URL", "mysql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["admin", "grant", "--phone", "13700000001", "--role", "admin"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "not a PostgreSQL URL" in result.output
    monkeypatch.setenv("XINGDONG_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["admin", "grant", "--phone", "13700000001", "--role", "admin"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert result.output.strip().count("\n") == 0


def test_an_operator_erases_an_account_on_request(cli_db: str) -> None:
    created = runner.invoke(
        app,
        ["admin", "create-staff", "--phone", "13700000003", "--role", "reviewer",
         "--password", "reviewPass1"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    staff = runner.invoke(
        app, ["admin", "erase-account", "--phone", "13700000003", "--why", "工单 42", "--yes"]
    )
    assert staff.exit_code == 1
    assert "platform staff role (reviewer)" in staff.output
    assert staff.output.strip().count("\n") == 0
    runner.invoke(app, ["admin", "revoke", "--phone", "13700000003", "--role", "reviewer"])
    asked = runner.invoke(
        app, ["admin", "erase-account", "--phone", "13700000003", "--why", "工单 42"], input="n\n"
    )
    assert asked.exit_code == 1
    with psycopg.connect(libpq_url(cli_db)) as conn:
        assert conn.execute("SELECT count(*) FROM people WHERE erased_at IS NULL").fetchone() == (
            1,
        )
    for args, message in (
        (["--phone", "13700000003", "--why", " "], "Say why"),
        (["--phone", "123", "--why", "x"], "mainland China mobile"),
        (["--phone", "13700000009", "--why", "x"], "No account"),
    ):
        bad = runner.invoke(app, ["admin", "erase-account", *args, "--yes"])
        assert bad.exit_code == 1 and message in bad.output, bad.output
    done = runner.invoke(
        app, ["admin", "erase-account", "--phone", "13700000003", "--why", "工单 42", "--yes"]
    )
    assert done.exit_code == 0, done.output
    assert "erased account" in done.output
    with psycopg.connect(libpq_url(cli_db)) as conn:
        row = conn.execute(
            "SELECT phone, erased_at IS NOT NULL FROM people ORDER BY created_at"
        ).fetchone()
        audit = conn.execute(
            "SELECT actor_id, data->>'via', data->>'why' FROM audit_log "
            "WHERE action = 'identity.account_erased'"
        ).fetchone()
    assert row is not None and row[0].startswith("erased-") and row[1]
    assert audit == (None, "operator", "工单 42")
    again = runner.invoke(
        app, ["admin", "erase-account", "--phone", "13700000003", "--why", "x", "--yes"]
    )
    assert again.exit_code == 1 and "No account" in again.output


def test_an_operator_closes_an_organisation_on_request(cli_db: str) -> None:
    created = runner.invoke(
        app,
        ["admin", "create-staff", "--phone", "13700000005", "--role", "reviewer",
         "--password", "reviewPass1"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    with psycopg.connect(libpq_url(cli_db)) as conn:
        person = conn.execute("SELECT id FROM people").fetchone()
        assert person is not None
        org = conn.execute(
            "INSERT INTO organisations (id, kind, name, created_by)"
            " VALUES (gen_random_uuid(), 'brand', '旧品牌', %s) RETURNING id",
            (person[0],),
        ).fetchone()
        assert org is not None
        conn.execute(
            "INSERT INTO memberships (org_id, person_id, role) VALUES (%s, %s, 'owner')",
            (org[0], person[0]),
        )
        campaign = conn.execute(
            "INSERT INTO campaigns (id, org_id, created_by, title, task_type, platform,"
            " target_kind, target_ref, target_title, target_url, brief, disclosure, quantity,"
            " unit_price, reward, fee, starts_at, ends_at) VALUES (gen_random_uuid(), %s, %s,"
            " 'x', 'follow', 'sandbox', 'account', 'a', 'a', 'https://x', 'b', '#广告', 1, 100,"
            " 80, 20, now(), now() + interval '1 day') RETURNING id",
            (org[0], person[0]),
        ).fetchone()
        assert campaign is not None
    org_id = str(org[0])
    for args, message in (
        (["--org", "not-a-uuid", "--why", "x"], "not an organisation id"),
        (["--org", "00000000-0000-7000-8000-000000000000", "--why", "x"], "No such organisation"),
        (["--org", org_id, "--why", " "], "Say why"),
        (["--org", org_id, "--why", "工单 43"], "1 campaigns are not closed"),
    ):
        bad = runner.invoke(app, ["admin", "close-organisation", *args, "--yes"])
        assert bad.exit_code == 1 and message in bad.output, bad.output
        assert bad.output.strip().count("\n") == 0
    asked = runner.invoke(
        app, ["admin", "close-organisation", "--org", org_id, "--why", "工单 43"], input="n\n"
    )
    assert asked.exit_code == 1
    with psycopg.connect(libpq_url(cli_db)) as conn:
        conn.execute("UPDATE campaigns SET status = 'closed' WHERE id = %s", (campaign[0],))
    done = runner.invoke(
        app, ["admin", "close-organisation", "--org", org_id, "--why", "工单 43", "--yes"]
    )
    assert done.exit_code == 0, done.output
    assert f"closed organisation {org_id}" in done.output
    with psycopg.connect(libpq_url(cli_db)) as conn:
        row = conn.execute(
            "SELECT closed_at IS NOT NULL, closed_by FROM organisations WHERE id = %s", (org[0],)
        ).fetchone()
        members = conn.execute("SELECT count(*) FROM memberships").fetchone()
        audit = conn.execute(
            "SELECT actor_id, data->>'via', data->>'why' FROM audit_log "
            "WHERE action = 'identity.organisation_closed'"
        ).fetchone()
    assert row == (True, None)
    assert members == (0,)
    assert audit == (None, "operator", "工单 43")
    again = runner.invoke(
        app, ["admin", "close-organisation", "--org", org_id, "--why", "x", "--yes"]
    )
    assert again.exit_code == 1 and "already closed" in again.output


def test_reconcile_compares_a_window_or_everything_and_refuses_a_bad_one(cli_db: str) -> None:
    window = runner.invoke(app, ["ledger", "reconcile", "--days", "30"])
    assert window.exit_code == 0, window.output
    assert "of the last 30 days or under way compared" in window.output
    assert "no differences" in window.output
    everything = runner.invoke(app, ["ledger", "reconcile", "--all"])
    assert everything.exit_code == 0 and "ever made compared" in everything.output
    for args, said in (
        (["--days", "0"], "--days must be from 1 to 3650, not 0"),
        (["--days", "7", "--all"], "give --days or --all, not both"),
    ):
        refused = runner.invoke(app, ["ledger", "reconcile", *args])
        assert refused.exit_code != 0
        assert said in refused.output and len(refused.output.strip().splitlines()) == 1


def test_a_dedicated_worker_stops_on_sigterm_instead_of_starting_again(
    cli_db: str, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "XINGDONG_DATABASE_URL": cli_db,
        "XINGDONG_LOG_JSON": "true",
        # procrastinate's "Starting worker" says its worker is up and listening.
        "XINGDONG_LOG_LEVELS": "procrastinate=INFO",
    }
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "xingdong", "worker", "--concurrency", "1"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "Starting worker" not in log.read_text() and time.monotonic() < deadline:
                assert worker.poll() is None, log.read_text()[-2000:]
                time.sleep(0.2)
            assert "Starting worker" in log.read_text()
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    written = log.read_text()
    assert code == 0, written[-2000:]
    assert "job_worker_stopped_on_signal" in written
    assert "job_worker_restarting" not in written
    assert written.count('"job_worker_starting"') == 1  # started once, not again


def test_a_dedicated_worker_runs_the_jobs_of_its_queue(cli_db: str, tmp_path: Path) -> None:
    """``xingdong worker`` on its own (as on another host) takes a job from its queue and
    runs it; no other worker runs here."""
    with psycopg.connect(libpq_url(cli_db), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO sms_codes (id, phone, purpose, code_digest, expires_at) "
            "VALUES (gen_random_uuid(), '+8613912345678', 'register', 'x', now())"
        )
        conn.execute(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('default', "
            "'identity:purge_expired_sms_codes', 0, NULL, NULL, '{}'::jsonb, NULL)]"
            "::procrastinate_job_to_defer_v1[])"
        )
    env = {**os.environ, "XINGDONG_DATABASE_URL": cli_db, "XINGDONG_LOG_JSON": "false"}
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    with (tmp_path / "worker.log").open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "xingdong", "worker", "--queues", "default",
             "--concurrency", "1", "--metrics-port", str(metrics_port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    status = None
    metrics = ""
    try:
        deadline = time.monotonic() + 60
        with psycopg.connect(libpq_url(cli_db), autocommit=True) as conn:
            while time.monotonic() < deadline and worker.poll() is None:
                status = conn.execute(
                    "SELECT status::text FROM procrastinate_jobs "
                    "WHERE task_name = 'identity:purge_expired_sms_codes'"
                ).fetchone()
                if status == ("succeeded",):
                    break
                time.sleep(0.2)
            left = conn.execute("SELECT count(*) FROM sms_codes").fetchone()
        # What it ran, on its own metrics port (a dedicated worker serves no pages).
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert status == ("succeeded",), (tmp_path / "worker.log").read_text()[-2000:]
    assert left == (0,)
    assert (
        'xingdong_jobs_total{outcome="succeeded",task="identity:purge_expired_sms_codes"}'
        in metrics
    )


PURGE = "identity:purge_expired_sms_codes"
SWEEP = "insights:sweep_webhooks"


def queue_a_failed_and_a_waiting_job(url: str) -> tuple[int, int]:
    import asyncio

    from sqlalchemy import text

    from xingdong.core.db import Database
    from xingdong.core.jobs import defer_in_transaction

    async def queue() -> tuple[int, int]:
        db = Database(url, pool_size=1)
        try:
            async with db.session_scope() as s:
                await defer_in_transaction(s, PURGE)
                await defer_in_transaction(s, SWEEP)
                found = await s.execute(
                    text("SELECT id FROM procrastinate_jobs WHERE task_name = ANY(:t) ORDER BY id"),
                    {"t": [PURGE, SWEEP]},
                )
                failed, waiting = found.scalars().all()
                await s.execute(
                    text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :id"),
                    {"id": failed},
                )
        finally:
            await db.dispose()
        return failed, waiting

    return asyncio.run(queue())


def listed_ids(output: str) -> list[int]:
    """The job numbers in the table's first column (a row folded onto more lines leaves
    it empty on the others), whatever the terminal's width."""
    cells = [line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│")]
    return [int(cell) for cell in cells if cell]


def job_status(url: str, job_id: int) -> str:
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT status::text FROM procrastinate_jobs WHERE id = %s", (job_id,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_an_operator_sees_failed_jobs_and_runs_one_again_from_the_command_line(
    cli_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    failed, waiting = queue_a_failed_and_a_waiting_job(cli_db)

    listed = runner.invoke(app, ["jobs", "list"])
    assert listed.exit_code == 0, listed.output
    assert "warning: no worker beats: nothing runs the jobs" in listed.output
    assert "failed 1, todo 1," in listed.output
    assert listed_ids(listed.output) == [failed], listed.output

    everything = runner.invoke(app, ["jobs", "list", "--status", "all", "--task", SWEEP])
    assert everything.exit_code == 0, everything.output
    assert listed_ids(everything.output) == [waiting], everything.output
    bad = runner.invoke(app, ["jobs", "list", "--status", "broken"])
    assert (bad.exit_code, bad.output.strip()) == (
        1,
        "error: unknown status 'broken': one of failed, todo, doing, succeeded, cancelled, "
        "aborted or all",
    )

    kept = runner.invoke(app, ["jobs", "run-again", str(failed)], input="n\n")
    assert kept.exit_code == 1
    assert job_status(cli_db, failed) == "failed"
    again = runner.invoke(app, ["jobs", "run-again", str(failed), "--yes"])
    assert again.exit_code == 0, again.output
    assert (
        again.output.strip()
        == f"job {failed} ({PURGE}) is back in its queue: todo, attempts so far: 1"
    )
    assert job_status(cli_db, failed) == "todo"
    with psycopg.connect(libpq_url(cli_db)) as conn:
        audited = conn.execute(
            "SELECT actor_id, object_id, data->>'task' FROM audit_log "
            "WHERE action = 'core.job_run_again'"
        ).fetchall()
    assert audited == [(None, str(failed), PURGE)]

    for job_id, said in (
        (waiting, "error: This job is waiting for a worker already: it will run."),
        (failed, "error: This job is waiting for a worker already: it will run."),
        (999_999, "error: No such job."),
    ):
        refused = runner.invoke(app, ["jobs", "run-again", str(job_id), "--yes"])
        assert (refused.exit_code, refused.output.strip()) == (1, said)
