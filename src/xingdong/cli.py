"""The ``xingdong`` command."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import webbrowser
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from xingdong.core.errors import XingdongError
from xingdong.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from xingdong.bench.risk.run import RiskFigures
    from xingdong.risk.model import RiskModel
    from xingdong.risk.settings import RiskSettings

app = typer.Typer(
    help="Xingdong (星动): the engagement task platform.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Staff accounts and roles.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
ledger_app = typer.Typer(help="The money ledger.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
console = Console()
err = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """One line on stderr and a non-zero exit."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=1)


def warn(message: str) -> None:
    """One line on stderr; the command goes on."""
    err.print(f"[yellow]warning:[/yellow] {message}", highlight=False, soft_wrap=True)


def _database_url(settings: Settings) -> str:
    from xingdong.core.db import async_url
    from xingdong.core.runtime import resolve_database_url

    try:
        url = resolve_database_url(settings)
        async_url(url)
    except Exception as exc:  # noqa: BLE001 - reported as one line, whatever failed
        fail(f"cannot start or reach the database: {exc}")
    return url


def _migrated_database_url(settings: Settings) -> str:
    """The database, once it is known to hold this release's schema."""
    url = _database_url(settings)
    _require_schema(url)
    return url


def _require_schema(url: str) -> None:
    """Fail with one line unless the database holds this release's schema: a command on a
    database never migrated, or one behind the release, failed deep in its first query."""
    from psycopg import OperationalError

    from xingdong.core.migrate import schema_standing

    try:
        standing = schema_standing(url)
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc).strip().splitlines()[0]}")
    if not standing.current:
        fail("the database has no tables yet: run `xingdong db upgrade` first")
    if standing.behind:
        fail(
            f"the database is at revision {', '.join(standing.current)} and this release "
            f"needs {', '.join(standing.heads)}: run `xingdong db upgrade` first"
        )
    if standing.unknown:
        # A rolling deployment or a rollback: a newer release's migrations add to what
        # this one reads, so it goes on, and says so.
        warn(
            f"the database is at revision {', '.join(standing.unknown)}, which this release "
            "does not have (a newer release migrated it); going on"
        )


async def _with_session(url: str, action: object) -> object:
    from xingdong.core.db import Database

    database = Database(url, pool_size=2)
    try:
        async with database.session_scope() as session:
            return await action(session)  # type: ignore[operator]
    finally:
        await database.dispose()


def _run(url: str, action: object) -> object:
    from sqlalchemy.exc import OperationalError

    try:
        return asyncio.run(_with_session(url, action))
    except XingdongError as exc:
        fail(_one_line(exc))
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")


def _one_line(exc: XingdongError) -> str:
    """The error as one line; a field's problems name the field, as no form marks it."""
    if exc.fields:
        return "; ".join(f"{error.field}: {error.message}" for error in exc.fields)
    return exc.detail.format(**exc.extra) if exc.detail else exc.title


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    _upgrade(_database_url(get_settings()), revision)
    console.print(f"database at revision {revision}")


def _upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations; what stops them is one line."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import OperationalError

    from xingdong.core.migrate import upgrade

    try:
        upgrade(url, revision)
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")
    except CommandError as exc:
        # Most often a database a newer release migrated, after a rollback of the code.
        fail(
            f"cannot upgrade: {' '.join(str(exc).split())} (a revision this release does "
            "not have: the one asked for, or the database's own if a newer release "
            "migrated it; run that release or restore the backup taken before it)"
        )


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the change does")],
    empty: bool = typer.Option(False, help="Do not compare models with the database"),
) -> None:
    """Write a new migration from the difference between the models and the database."""
    from xingdong.core.migrate import revision

    revision(_database_url(get_settings()), message, autogenerate=not empty)


@admin_app.command("create-staff")
def admin_create_staff(
    phone: Annotated[str, typer.Option(help="Mobile number, the sign-in name")],
    role: Annotated[str, typer.Option(help="reviewer, operator or admin")],
    name: Annotated[str, typer.Option(help="Name shown to others")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Create a staff account and grant it a role."""
    from xingdong.identity import service

    async def action(session: object) -> None:
        await service.create_person_directly(
            session,  # type: ignore[arg-type]
            phone=phone,
            password=password,
            display_name=name,
        )
        await service.grant_staff_role(session, phone=phone, role=role, granted_by=None)  # type: ignore[arg-type]

    _run(_migrated_database_url(get_settings()), action)
    console.print(f"created {phone} with role {role}")


@admin_app.command("grant")
def admin_grant(
    phone: Annotated[str, typer.Option(help="Mobile number of an existing account")],
    role: Annotated[str, typer.Option(help="reviewer, operator or admin")],
) -> None:
    """Grant a staff role to an existing account."""
    from xingdong.identity import service

    async def action(session: object) -> bool:
        return await service.grant_staff_role(session, phone=phone, role=role, granted_by=None)  # type: ignore[arg-type]

    added = _run(_migrated_database_url(get_settings()), action)
    console.print(f"{phone}: {role} {'granted' if added else 'was already held'}")


@admin_app.command("revoke")
def admin_revoke(
    phone: Annotated[str, typer.Option(help="Mobile number of an existing account")],
    role: Annotated[str, typer.Option(help="reviewer, operator or admin")],
) -> None:
    """Take a staff role away."""
    from xingdong.identity import service

    async def action(session: object) -> bool:
        return await service.revoke_staff_role(session, phone=phone, role=role, revoked_by=None)  # type: ignore[arg-type]

    removed = _run(_migrated_database_url(get_settings()), action)
    console.print(f"{phone}: {role} {'revoked' if removed else 'was not held'}")


@admin_app.command("erase-account")
def admin_erase_account(
    phone: Annotated[str, typer.Option(help="Mobile number of the account to erase")],
    why: Annotated[str, typer.Option(help="The request's reference, kept in the audit log")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase an account on its owner's request made by other means (PIPL art. 47), with
    the checks people's own erasure has; it cannot be undone (docs/privacy.md)."""
    from xingdong.core.context import current_locale
    from xingdong.identity import erasure

    if not yes:
        typer.confirm(f"Erase the account of {phone} for good?", abort=True)
    settings = get_settings()
    current_locale.set("en")

    async def action(session: object) -> erasure.ErasureReceipt:
        return await erasure.erase_on_request(
            session,  # type: ignore[arg-type]
            phone=phone,
            why=why,
            settings=settings,
        )

    receipt = _run(_migrated_database_url(settings), action)
    assert isinstance(receipt, erasure.ErasureReceipt)
    console.print(
        f"erased account {receipt.person_id}; {receipt.files_deleted} evidence files "
        "to delete by the job worker"
    )


@admin_app.command("close-organisation")
def admin_close_organisation(
    org: Annotated[str, typer.Option(help="The id of the organisation to close")],
    why: Annotated[str, typer.Option(help="The request's reference, kept in the audit log")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Close a brand or an agency on its owners' request made by other means, with the
    checks an owner's own closing has; it cannot be undone (docs/organisations.md)."""
    from uuid import UUID

    from xingdong.core.context import current_locale
    from xingdong.identity import org_closure

    try:
        org_id = UUID(org)
    except ValueError:
        fail(f"not an organisation id: {org!r}")
    if not yes:
        typer.confirm(f"Close the organisation {org_id} for good?", abort=True)
    settings = get_settings()
    current_locale.set("en")

    async def action(session: object) -> org_closure.ClosureReceipt:
        from xingdong.core.db import Database
        from xingdong.ledger.payments import build_payment_provider

        # The provider is told to close the organisation's open checkouts.
        provider_db = Database(_database_url(settings), pool_size=1)
        try:
            return await org_closure.close_on_request(
                session,  # type: ignore[arg-type]
                org_id=org_id,
                why=why,
                settings=settings,
                payments=build_payment_provider(
                    settings.payment_provider,
                    settings.payment_sandbox_secret.get_secret_value(),
                    provider_db,
                ),
            )
        finally:
            await provider_db.dispose()

    receipt = _run(_migrated_database_url(settings), action)
    assert isinstance(receipt, org_closure.ClosureReceipt)
    console.print(f"closed organisation {receipt.org_id} at {receipt.closed_at:%Y-%m-%d %H:%M} UTC")


jobs_app = typer.Typer(
    help="Background jobs, as operators see them on /ops/jobs.", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[
        str, typer.Option(help="failed, todo, doing, succeeded, cancelled, aborted, or all")
    ] = "failed",
    task: Annotated[
        str, typer.Option(help="Only jobs of this type (core:prune_finished_jobs …)")
    ] = "",
    limit: Annotated[int, typer.Option(min=1, max=200, help="Jobs shown, newest first")] = 20,
) -> None:
    """Whether the queue is worked, how many jobs are in each status, and the newest jobs
    of one status (failed unless told)."""
    from xingdong.core import job_board

    if status != "all" and status not in job_board.STATUS_LABELS:
        fail(f"unknown status {status!r}: one of {', '.join(job_board.STATUS_LABELS)} or all")

    async def action(session: object) -> job_board.JobBoard:
        return await job_board.job_board(
            session,  # type: ignore[arg-type]
            actor=None,
            status="" if status == "all" else status,
            task=task,
            limit=limit,
        )

    board = _run(_migrated_database_url(get_settings()), action)
    assert isinstance(board, job_board.JobBoard)
    health = board.health
    assert health is not None
    beat = (
        f"{health.last_heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if health.last_heartbeat_at else "never"
    )
    console.print(
        f"workers beating: {health.workers} (latest beat: {beat})", highlight=False, soft_wrap=True
    )
    if health.workers == 0:
        warn("no worker beats: nothing runs the jobs (start `xingdong worker`, or a server)")
    elif health.behind:
        warn(f"a job due {health.waited_seconds:.0f} s ago still waits: the workers are behind")
    console.print(
        ", ".join(f"{name} {count}" for name, count in board.counts.items()),
        highlight=False,
        soft_wrap=True,
    )
    if not board.items:
        console.print(
            f"no {status} jobs" + (f" of {task}" if task else ""), highlight=False, soft_wrap=True
        )
        return
    table = Table("id")
    # A narrow terminal folds a job type or its arguments onto more lines, never cuts them.
    table.add_column("type", overflow="fold")
    for heading in ("status", "attempts", "last event", "at (UTC)"):
        table.add_column(heading)
    table.add_column("arguments", overflow="fold")
    for item in board.items:
        table.add_row(
            str(item.id),
            item.task,
            item.status,
            str(item.attempts),
            item.last_event or "",
            f"{item.last_event_at:%Y-%m-%d %H:%M:%S}" if item.last_event_at else "",
            escape(item.args_text),
        )
    console.print(table)
    if board.next_cursor:
        console.print(f"newest {limit} shown; --limit shows more", highlight=False, soft_wrap=True)


@jobs_app.command("run-again")
def jobs_run_again(
    job_id: Annotated[int, typer.Argument(help="The job's number (from xingdong jobs list)")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Put a failed job back in its queue to run at once (written to the audit log)."""
    from xingdong.core import job_board

    if not yes:
        typer.confirm(f"Run job {job_id} again?", abort=True)

    async def action(session: object) -> job_board.QueuedJob:
        return await job_board.run_again(session, actor=None, job_id=job_id)  # type: ignore[arg-type]

    queued = _run(_migrated_database_url(get_settings()), action)
    assert isinstance(queued, job_board.QueuedJob)
    console.print(
        f"job {queued.id} ({queued.task}) is back in its queue: {queued.status}, "
        f"attempts so far: {queued.attempts}",
        highlight=False,
        soft_wrap=True,
    )


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Check every ledger invariant; exit 1 and list the problems if any fails."""
    from xingdong.ledger import service

    async def action(session: object) -> object:
        return await service.verify(session)  # type: ignore[arg-type]

    report = _run(_migrated_database_url(get_settings()), action)
    assert isinstance(report, service.VerifyReport)
    console.print(f"{report.accounts} accounts, {report.transfers} transfers checked")
    if report.ok:
        console.print("[green]ledger OK[/green]: every invariant holds")
        return
    for problem in report.problems:
        err.print(f"[red]problem:[/red] {problem}", highlight=False)
    raise typer.Exit(code=1)


risk_app = typer.Typer(
    help="Anti-cheat: replay recorded traffic, train the model.", no_args_is_help=True
)
app.add_typer(risk_app, name="risk")


def _risk_options(
    settings_file: Path | None, model_file: Path | None
) -> tuple[RiskSettings, RiskModel | None]:
    from pydantic import ValidationError

    from xingdong.risk.model import RiskModel
    from xingdong.risk.settings import RiskSettings

    settings = RiskSettings()
    model = None
    try:
        if settings_file is not None:
            settings = RiskSettings.from_file(settings_file)
        if model_file is not None:
            model = RiskModel.from_file(model_file)
    except OSError as exc:
        fail(f"cannot read {exc.filename}: {exc.strerror}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(f"{settings_file}: {where + ': ' if where else ''}{first['msg']}")
    except (ValueError, KeyError, TypeError) as exc:
        fail(f"{model_file}: not a risk model ({exc})")
    return settings, model


@risk_app.command("replay")
def risk_replay(
    events: Annotated[Path, typer.Argument(help="Recorded events, one JSON object a line")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the decisions")],
    settings_file: Annotated[
        Path | None, typer.Option("--settings", help="JSON file of rule settings to try")
    ] = None,
    model_file: Annotated[
        Path | None, typer.Option("--model", help="Scoring model from `xingdong risk train`")
    ] = None,
) -> None:
    """Run recorded events through the risk engine and write its decisions."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from xingdong.risk.replay import replay

    settings, model = _risk_options(settings_file, model_file)
    try:
        size = events.stat().st_size
        source = events.open("rb")
        target = out.open("w", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot open {exc.filename}: {exc.strerror}")

    def problem(line: int, message: str) -> None:
        err.print(f"line {line}: {message}", highlight=False, soft_wrap=True)

    progress = Progress(
        TextColumn("replaying"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    with source, target, progress:
        task = progress.add_task("replay", total=size)
        pending = 0

        def advance(length: int) -> None:
            nonlocal pending
            pending += length
            if pending >= 1 << 18:
                progress.advance(task, pending)
                pending = 0

        summary = replay(
            source, target, settings=settings, model=model, on_problem=problem, on_line=advance
        )
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary.decisions.items()))
    accounts = ", ".join(f"{n} {k}" for k, n in sorted(summary.account_decisions.items()))
    err.print(
        f"{summary.events:,} events in {summary.stream_seconds:.1f} s "
        f"({summary.events_per_second:,.0f} events/s); decisions: {kinds or 'none'}; "
        f"skipped: {summary.malformed} malformed, {summary.unknown_types} of unknown type; "
        f"batch detection {summary.batch_seconds:.2f} s, accounts: {accounts or 'none'}",
        highlight=False,
        soft_wrap=True,
    )


@risk_app.command("train")
def risk_train(
    events: Annotated[Path, typer.Argument(help="Recorded events, one JSON object a line")],
    labels: Annotated[Path, typer.Argument(help="Verdicts: JSON lines of account or line labels")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the model (JSON)")],
) -> None:
    """Fit the scoring model on operators' verdicts over recorded events."""
    from xingdong.risk.training import TrainingError, train_from_files

    try:
        model, rows = train_from_files(events, labels)
    except OSError as exc:
        fail(f"cannot read {exc.filename}: {exc.strerror}")
    except TrainingError as exc:
        fail(str(exc))
    out.write_text(model.to_json(), encoding="utf-8")
    console.print(f"model trained on {rows:,} labelled decisions, written to {out}")


@risk_app.command("scan")
def risk_scan(
    days: float = typer.Option(7.0, min=0, max=3650, help="How many days of traffic to judge"),
) -> None:
    """Run the batch detectors over the recorded traffic now and keep the cases for
    operators (the server does it every hour)."""
    from xingdong.risk import cases

    settings = get_settings()
    url = _migrated_database_url(settings)

    async def action(session: object) -> object:
        return await cases.scan(
            session,  # type: ignore[arg-type]
            days=days,
            rules_file=settings.risk_rules_file,
        )

    result = _run(url, action)
    assert isinstance(result, cases.ScanResult)
    console.print(
        f"{result.events:,} events, {result.judged_accounts:,} accounts judged: "
        f"{result.cases_opened} new cases, {result.cases_updated} updated"
    )


@risk_app.command("export")
def risk_export(
    out: Annotated[Path, typer.Option("--out", help="Where to write the events (JSON lines)")],
    days: float = typer.Option(7.0, min=0, max=3650, help="How many days back to export"),
    labels_out: Annotated[
        Path | None,
        typer.Option("--labels", help="Also write operators' verdicts, for `risk train`"),
    ] = None,
) -> None:
    """Write the platform's recorded events (registrations, logins, claims, hand-ins,
    withdrawals) in the replay format, oldest first, to try a rule change on them with
    ``xingdong risk replay``."""
    import json
    from datetime import timedelta

    from xingdong.core.clock import utcnow
    from xingdong.risk import service as risk

    url = _migrated_database_url(get_settings())

    async def action(session: object) -> object:
        # The events as the database holds them, already JSON lines of the replay format.
        events = await risk.recorded_event_lines(
            session,  # type: ignore[arg-type]
            since=utcnow() - timedelta(days=days),
        )
        return events, await risk.labels(session)  # type: ignore[arg-type]

    result = _run(url, action)
    assert isinstance(result, tuple)
    events, verdicts = result
    labels = [json.dumps(verdict, ensure_ascii=False) for verdict in verdicts]
    written = [(out, events)] + ([(labels_out, labels)] if labels_out else [])
    for path, lines in written:
        try:
            with path.open("w", encoding="utf-8") as handle:
                for line in lines:
                    handle.write(line + "\n")
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror}")
    console.print(f"{len(events):,} events written to {out}")
    if labels_out:
        console.print(f"{len(verdicts):,} account labels written to {labels_out}")


dispatch_app = typer.Typer(help="The task feed's allocation.", no_args_is_help=True)
app.add_typer(dispatch_app, name="dispatch")


@dispatch_app.command("seed-prices")
def dispatch_seed_prices(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of the result"),
    rest_of_day: bool = typer.Option(
        False,
        "--rest-of-day",
        help="Solve them on the traffic still to come today, with the units left now "
        "(the server does it every three hours)",
    ),
) -> None:
    """Replay the last day's visits through the offline optimum and store each live
    campaign's starting pacing price now (the server does it every night)."""
    import json

    from sqlalchemy.exc import OperationalError

    from xingdong.core.db import Database
    from xingdong.dispatch import nightly

    settings = get_settings()
    url = _migrated_database_url(settings)

    async def seed() -> nightly.PriceSeeding:
        db = Database(url, pool_size=2)
        try:
            if rest_of_day:
                return await nightly.resolve_prices(db, settings)
            return await nightly.seed_prices(db, settings)
        finally:
            await db.dispose()

    try:
        seeding = asyncio.run(seed())
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")
    if as_json:
        print(json.dumps(asdict(seeding)))  # noqa: T201 - the command's output
        return
    how = "solved exactly" if seeding.exact else "dual bound"
    replayed = "visits to come" if rest_of_day else "visits replayed"
    if seeding.visits < seeding.day_visits:
        replayed += f" (a sample of the last day's {seeding.day_visits:,})"
    console.print(
        f"{seeding.visits:,} {replayed}; {seeding.campaigns} live campaigns priced, "
        f"{seeding.scarce} scarce; optimum ¥{seeding.value_fen / 100:,.2f} ({how})"
    )


bench_app = typer.Typer(help="Benchmarks, as ratios to a baseline of the same run.")
app.add_typer(bench_app, name="bench")


@bench_app.command("ledger")
def bench_ledger(
    seconds: float = typer.Option(10.0, min=0.1, help="Length of each measured phase"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of the figures"),
) -> None:
    """Ledger transfers per second, in-process and through the HTTP API, against pgbench's
    TPC-B on the same server."""
    import json

    from xingdong.bench import ledger as bench

    url = _database_url(get_settings())
    if not as_json:
        err.print(
            f"measuring pgbench, the ledger service, the HTTP API and pgbench again, "
            f"{seconds:g} s each …"
        )
    try:
        figures = bench.run(url, seconds=seconds)
    except (RuntimeError, OSError) as exc:
        fail(str(exc).splitlines()[0])
    if as_json:
        print(json.dumps(figures.as_dict()))  # noqa: T201 - the command's output
        return
    table = Table(title=f"Ledger benchmark ({figures.clients} concurrent clients)")
    table.add_column("measure")
    table.add_column("per second", justify="right")
    table.add_column("ratio to pgbench", justify="right")
    runs = " / ".join(f"{r:,.0f}" for r in figures.pgbench_runs)
    table.add_row(
        f"pgbench TPC-B (baseline: mean of {runs})", f"{figures.pgbench_tps:,.0f}", "1.00"
    )
    table.add_row("ledger.service, uniform", f"{figures.service_tps:,.0f}", f"{figures.ratio:.2f}")
    table.add_row(
        "ledger.service, hot account", f"{figures.service_hot_tps:,.0f}", f"{figures.hot_ratio:.2f}"
    )
    as_dict = figures.as_dict()
    table.add_row(
        "HTTP API (2 workers), uniform", f"{figures.http_tps:,.0f}", f"{as_dict['http_ratio']:.2f}"
    )
    table.add_row(
        "HTTP API (2 workers), hot",
        f"{figures.http_hot_tps:,.0f}",
        f"{as_dict['http_hot_ratio']:.2f}",
    )
    console.print(table)


@bench_app.command("handins")
def bench_handins(
    handins: int = typer.Option(50, min=1, max=60, help="Hand-ins a round (one campaign)"),
    concurrent: int = typer.Option(16, min=1, max=64, help="Sessions handing in at once"),
    delay_ms: float = typer.Option(
        50.0, min=1, max=2000, help="How late the slow platform answers"
    ),
    rounds: int = typer.Option(2, min=1, max=10, help="Rounds of each platform, alternating"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of the figures"),
) -> None:
    """Hand-ins per second on one campaign while the platform takes DELAY_MS to say
    whether the action was done, as a ratio to a platform that answers at once."""
    import json

    from xingdong.bench import handins as bench

    url = _database_url(get_settings())
    if not as_json:
        err.print(
            f"{rounds} rounds of {handins} hand-ins from {concurrent} sessions, the platform "
            f"answering at once and after {delay_ms:g} ms …"
        )
    try:
        figures = bench.run(
            url, handins=handins, concurrent=concurrent, delay_ms=delay_ms, rounds=rounds
        )
    except (XingdongError, OSError) as exc:
        fail(str(exc).splitlines()[0])
    if as_json:
        print(json.dumps(figures.as_dict()))  # noqa: T201 - the command's output
        return
    table = Table(title=f"Hand-ins on one campaign ({concurrent} sessions at once)")
    table.add_column("platform answers")
    table.add_column("hand-ins per second (each round)", justify="right")
    table.add_column("ratio to at once", justify="right")
    rounds_of = " / ".join
    table.add_row(
        "at once (baseline)",
        f"{figures.at_once:,.1f} ({rounds_of(f'{r:,.1f}' for r in figures.at_once_per_s)})",
        "1.00",
    )
    table.add_row(
        f"after {delay_ms:g} ms",
        f"{figures.delayed:,.1f} ({rounds_of(f'{r:,.1f}' for r in figures.delayed_per_s)})",
        f"{figures.ratio:.2f}",
    )
    table.add_row(
        "after it, one hand-in at a time (for comparison)",
        f"{figures.one_at_a_time:,.1f}",
        f"{figures.one_at_a_time / figures.at_once:.2f}",
    )
    console.print(table)


@bench_app.command("feed")
def bench_feed(
    seconds: float = typer.Option(10.0, min=0.1, help="Length of each measured phase"),
    rounds: int = typer.Option(3, min=1, help="Rounds of the three phases; figures are medians"),
    seed: int = typer.Option(0, help="Seed of the generated campaigns and workers"),
    campaigns: int = typer.Option(2_000, min=1, help="Live campaigns to generate"),
    workers: int = typer.Option(1_000, min=1, help="Workers to generate"),
    server_processes: int = typer.Option(
        1,
        min=1,
        max=16,
        help="Server processes (xingdong serve --workers); one by default, as serve",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of the figures"),
) -> None:
    """The personal feed API on the real database: its peak against a single-row SELECT
    endpoint on the same stack, and its latency open-loop at 70% of its peak, in rounds
    of the three phases side by side (the machine's speed drifts between rounds)."""
    import json

    from xingdong.bench import feed as bench

    url = _database_url(get_settings())
    if not as_json:
        err.print(
            f"seeding {campaigns:,} campaigns and {workers:,} workers, "
            f"then {rounds} round(s) of three phases of {seconds:g} s …"
        )
    try:
        figures = bench.run(
            url,
            seconds=seconds,
            seed=seed,
            campaigns=campaigns,
            workers=workers,
            rounds=rounds,
            server_processes=server_processes,
        )
    except (RuntimeError, OSError) as exc:
        fail(str(exc).splitlines()[0])
    other = max((x for x in figures.round_other_cores if x is not None), default=0.0)
    if other > bench.OTHER_WORK_WARNING:
        err.print(
            f"[yellow]Other work kept {other:.2f} of a core busy during a round: these "
            "figures are not the feed's alone (is a demo or a test running?)[/yellow]"
        )
    if as_json:
        print(json.dumps(figures.as_dict()))  # noqa: T201 - the command's output
        return
    table = Table(
        title=(
            f"Feed API ({figures.campaigns:,} live campaigns, {figures.workers:,} workers, "
            f"{figures.server_processes} server process"
            f"{'es' if figures.server_processes > 1 else ''})"
        )
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("single-row SELECT endpoint, peak (baseline)", f"{figures.baseline_rps:,.0f}/s")
    table.add_row("feed, peak", f"{figures.feed_peak_rps:,.0f}/s")
    table.add_row("feed peak / baseline (median of the rounds)", f"{figures.ratio:.2f}")
    table.add_row("each round's ratio", ", ".join(f"{r:.2f}" for r in figures.round_ratios))
    table.add_row("open loop at 70% of the feed's peak", f"{figures.open_loop_rps:,.0f}/s")
    table.add_row("latency p50", f"{figures.p50_ms:.1f} ms")
    table.add_row("latency p99 (every round's requests)", f"{figures.p99_ms:.1f} ms")
    table.add_row("each round's p99", ", ".join(f"{p:.1f} ms" for p in figures.round_p99_ms))
    table.add_row(
        "p99 in flight (sent to answered; the rest waited for a connection)",
        f"{figures.in_flight_p99_ms:.1f} ms",
    )
    table.add_row(
        "machine: slowest / fastest CPU time of fixed work, each round",
        ", ".join("?" if x is None else f"{x:.2f}" for x in figures.round_slowdown),
    )
    table.add_row(
        "machine: cores busy with other work, each round",
        ", ".join("?" if x is None else f"{x:.2f}" for x in figures.round_other_cores),
    )
    table.add_row("errors", f"{figures.errors} of {figures.sent}")
    for label, cpu in (("baseline", figures.baseline_cpu_ms), ("feed", figures.feed_cpu_ms)):
        if cpu is not None:
            table.add_row(f"server CPU per {label} request", f"{cpu:.2f} ms")
    console.print(table)


@bench_app.command("risk")
def bench_risk(
    preset: str = typer.Option("standard", help="easy, standard or hard"),
    seed: int = typer.Option(1, help="Seed of the generated world"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of the figures"),
    no_model: bool = typer.Option(False, help="Skip training and replaying the scoring model"),
    no_scale: bool = typer.Option(False, help="Skip the 1-million-edge detector timing"),
    out_dir: Path | None = typer.Option(None, help="Keep the generated events and labels here"),
) -> None:
    """The risk engine on a generated world of honest and fraudulent traffic, against a
    plain-threshold baseline on the same events."""
    import json

    from xingdong.bench.risk.presets import PRESETS
    from xingdong.bench.risk.run import run

    chosen = PRESETS.get(preset)
    if chosen is None:
        fail(f"unknown preset {preset!r} (choose from {', '.join(sorted(PRESETS))})")
    if not as_json:
        err.print(f"generating the {preset} world (seed {seed}) and replaying it …")
    figures = run(chosen, seed, with_model=not no_model, with_scale=not no_scale, keep_in=out_dir)
    if as_json:
        print(json.dumps(figures.as_dict()))  # noqa: T201 - the command's output
        return
    console.print(_risk_table(figures))


def _risk_table(figures: RiskFigures) -> Table:
    runs = [("baseline", figures.baseline), ("engine (rules)", figures.engine)]
    if figures.model is not None:
        runs.append(("engine (model)", figures.model))
    table = Table(title=f"Risk benchmark, {figures.preset} preset, {figures.events:,} events")
    table.add_column("figure")
    for name, _ in runs:
        table.add_column(name, justify="right")
    table.add_column("goal", justify="right")

    def pct(value: float) -> str:
        return f"{value:.2%}"

    rows = [
        ("fraud submissions intercepted", "interception", "≥ 97%"),
        ("… of them blocked", "interception_block", ""),
        ("honest decisions blocked", "honest_block_rate", "≤ 0.3%"),
        ("honest decisions reviewed", "honest_review_rate", "≤ 5%"),
        ("honest submissions blocked", "honest_submit_block_rate", ""),
        ("honest submissions reviewed", "honest_submit_review_rate", ""),
        ("account precision (batch)", "account_precision", "≥ 99%"),
        ("account recall (batch)", "account_recall", ""),
    ]
    for label, name, goal in rows:
        table.add_row(label, *(pct(getattr(s, name)) for _, s in runs), goal)
    for family in sorted(figures.engine.recall_by_family):
        table.add_row(
            f"intercepted: {family}",
            *(pct(s.recall_by_family.get(family, 0.0)) for _, s in runs),
            "",
        )
    table.add_row(
        "events/s (baseline column: json parse only)",
        f"{figures.parse_events_per_second:,.0f}",
        f"{figures.engine_events_per_second:,.0f}",
        *([""] if figures.model is not None else []),
        "≥ 5,000",
    )
    table.add_row(
        "engine speed / parse-only speed",
        "",
        f"{figures.speed_ratio:.3f}",
        *([""] if figures.model is not None else []),
        "",
    )
    if figures.scale is not None:
        scale = figures.scale
        table.add_row(
            f"detectors on {scale.edges:,} edges (s)",
            "",
            f"lockstep {scale.lockstep_seconds:.2f}, dense {scale.dense_seconds:.2f}, "
            f"rings {scale.rings_seconds:.2f}",
            *([""] if figures.model is not None else []),
            "≤ 5 s",
        )
    return table


@bench_app.command("dispatch")
def bench_dispatch(
    seeds: str = typer.Option("1,2", help="Comma-separated seeds, one workload each"),
    size: str = typer.Option("default", help="Workload size: quick, default or large"),
    quick: bool = typer.Option(False, "--quick", help="Same as --size quick"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of the figures"),
    replays: int = typer.Option(
        3,
        help="Plays of each day, each with other choices by the simulated people; the "
        "figures are their means (one day's choices move a ratio by several points)",
    ),
    weights: str = typer.Option(
        "",
        help="JSON object of feed weights to try, over XINGDONG_DISPATCH_WEIGHTS, "
        "for example '{\"explore\": 0.3}'",
    ),
) -> None:
    """The task feed against the offline optimum and four baselines (random, greedy,
    BALANCE, re-solving LP) on simulated days, per arrival order and budget tightness.
    The feed runs with the weights of XINGDONG_DISPATCH_WEIGHTS, changed by --weights."""
    import json

    from xingdong.bench import dispatch as bench
    from xingdong.bench.dispatch_workload import SIZES
    from xingdong.dispatch.weights import weights_from

    if quick:
        size = "quick"
    if size not in SIZES:
        fail(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    try:
        chosen = [int(part) for part in seeds.split(",") if part.strip()]
    except ValueError:
        fail(f"seeds must be whole numbers separated by commas, not {seeds!r}")
    if not chosen:
        fail("give at least one seed")
    if replays < 1:
        fail(f"--replays must be at least 1, not {replays}")
    overrides: dict[str, float] = dict(get_settings().dispatch_weights)
    if weights:
        try:
            given = json.loads(weights)
        except ValueError:
            fail(f"--weights must be a JSON object, not {weights!r}")
        if not isinstance(given, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in given.values()
        ):
            fail('--weights must be a JSON object of numbers, like {"explore": 0.3}')
        overrides |= given
    try:
        chosen_weights = weights_from(overrides)
    except ValueError as exc:
        fail(str(exc))
    progress = None if as_json else (lambda line: err.print(line, highlight=False))
    figures = bench.run(chosen, size, progress=progress, weights=chosen_weights, replays=replays)
    if as_json:
        print(json.dumps(figures.as_dict(), ensure_ascii=False))  # noqa: T201 - the output
        return
    for table in bench.tables(figures):
        console.print(table)


@ledger_app.command("reconcile")
def ledger_reconcile(
    days: Annotated[
        int | None,
        typer.Option(
            help="Compare what was started in this many days, and all still under way "
            "(default: XINGDONG_RECONCILIATION_DAYS)"
        ),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Compare every top-up, withdrawal and refund ever made")
    ] = False,
) -> None:
    """Compare the payment and payout providers' records with the ledger; exit 1 and list
    the differences if there are any."""
    from xingdong.core.runtime import build_runtime
    from xingdong.ledger import reconciliation

    if days is not None and not 1 <= days <= 3650:
        fail(f"--days must be from 1 to 3650, not {days}")
    if days is not None and everything:
        fail("give --days or --all, not both")
    settings = get_settings()
    url = _migrated_database_url(settings)
    runtime = build_runtime(settings, url)
    window = None if everything else (days or settings.reconciliation_days)

    async def action(session: object) -> object:
        report = await reconciliation.reconcile(
            session,  # type: ignore[arg-type]
            payments=runtime.payments,
            payouts=runtime.payouts,
            days=window,
        )
        await runtime.db.dispose()
        return report

    report = _run(url, action)
    assert isinstance(report, reconciliation.ReconciliationReport)
    scope = "ever made" if window is None else f"of the last {window} days or under way"
    console.print(f"{report.checked} top-ups, withdrawals and refunds {scope} compared")
    if not report.differences:
        console.print("[green]no differences[/green]")
        return
    for difference in report.differences:
        err.print(f"[red]difference:[/red] {difference}", highlight=False)
    raise typer.Exit(code=1)


def _serve(settings: Settings, url: str, host: str, port: int, workers: int = 1) -> None:
    import os

    import uvicorn

    from xingdong.app import create_app
    from xingdong.dispatch import kernels

    # Compiled here once (kept on disk), so that each server process only loads them.
    kernels.warm_up()
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit
    # instead lets exit handlers run, among them the one that stops an embedded database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # No access log from uvicorn: the app logs each request itself, with its request id.
    # The HTTP protocol is uvicorn's httptools one, writing a response's head and body
    # together (see xingdong.web.http_protocol).
    http = "xingdong.web.http_protocol:CoalescingHttpToolsProtocol"
    if workers > 1:
        # Each worker process builds its own app from the environment.
        os.environ["XINGDONG_DATABASE_URL"] = url
        os.environ["XINGDONG_RUN_WORKER_IN_PROCESS"] = str(settings.run_worker_in_process)
        uvicorn.run(
            "xingdong.app:create_served_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_config=None,
            access_log=False,
            http=http,
        )
        return
    application = create_app(settings, database_url=url, served=True)
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        proxy_headers=True,
        log_config=None,
        access_log=False,
        lifespan="on",
        http=http,
    )
    uvicorn.Server(config).run()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on"),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="Do not run a job worker in this process"
    ),
    workers: int = typer.Option(1, min=1, help="Server processes (each with its own pool)"),
) -> None:
    """Run the web server (with a job worker inside, unless --no-worker)."""
    settings = get_settings()
    _refuse_development_settings(settings, host)
    _refuse_a_taken_port(host, port)
    _warn_of_a_weak_secret_key(settings)
    if no_worker:
        settings = settings.model_copy(update={"run_worker_in_process": False})
    _serve(settings, _migrated_database_url(settings), host, port, workers)


def _refuse_a_taken_port(host: str, port: int) -> None:
    """Fail with one line if the server could not listen on ``host``:``port``."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}: {exc.strerror}")
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As the server sets it, so a port a stopped server left waiting counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            fail(
                f"cannot listen on {host}:{port}: {exc.strerror} "
                "(is another demo or server running? --port chooses another)"
            )


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def _secret_key_weakness(settings: Settings) -> str | None:
    """What is wrong with the secret key for more than one machine, if anything: with a
    known key anyone can forge the forms' CSRF tokens and test one-time codes."""
    from xingdong.core.settings import DEVELOPMENT_SECRET_KEY, MIN_SECRET_KEY_LENGTH

    secret = settings.secret_key.get_secret_value()
    if secret == DEVELOPMENT_SECRET_KEY:
        return "the development value, which anyone can read in the source"
    if len(secret) < MIN_SECRET_KEY_LENGTH:
        return f"shorter than {MIN_SECRET_KEY_LENGTH} characters"
    return None


def _refuse_development_settings(settings: Settings, host: str) -> None:
    """What is fit for one machine is refused where other machines reach the server."""
    if host in LOOPBACK_HOSTS:
        return
    if not settings.database_url:
        fail(
            f"XINGDONG_DATABASE_URL is not set: the embedded database is for the demo and "
            f"one machine, not for serving on {host} (docs/deployment.md)"
        )
    weakness = _secret_key_weakness(settings)
    if weakness is not None:
        fail(
            f"XINGDONG_SECRET_KEY is {weakness}: set a long random one before serving on "
            f"{host} (docs/deployment.md)"
        )


def _warn_of_a_weak_secret_key(settings: Settings) -> None:
    """Behind a proxy on this machine, or in a worker (which does not listen), a weak key
    may be a deployment's all the same: said, and the command goes on."""
    weakness = _secret_key_weakness(settings)
    if weakness is not None:
        warn(f"XINGDONG_SECRET_KEY is {weakness}: set a long random one (docs/deployment.md)")


@app.command()
def worker(
    concurrency: int = typer.Option(4, min=1, help="Jobs run at once by this worker"),
    queues: str = typer.Option("", help="Comma-separated queues (default: all)"),
    metrics_port: int | None = typer.Option(
        None, min=1, max=65535, help="Serve Prometheus metrics on this port (/metrics)"
    ),
    metrics_host: str = typer.Option("127.0.0.1", help="Address the metrics are served on"),
) -> None:
    """Run a dedicated job worker (any number of them, on any hosts). SIGTERM or Ctrl+C
    stops it once its running jobs are done; a second one stops those too."""
    from xingdong.core.jobs import build_job_app, keep_running, until_signalled
    from xingdong.core.logging import configure_logging
    from xingdong.core.runtime import build_runtime

    settings = get_settings()
    url = _database_url(settings)
    job_app = build_job_app(url)
    chosen = [q.strip() for q in queues.split(",") if q.strip()]
    known = sorted({task.queue for task in job_app.tasks.values()})
    unknown = [q for q in chosen if q not in known]
    if unknown:
        # A misspelt queue left a worker waiting for ever on a queue no job goes to.
        fail(f"unknown queue {unknown[0]!r}; the queues are {', '.join(known)}")
    if metrics_port is not None:
        from prometheus_client import start_http_server

        try:
            start_http_server(metrics_port, addr=metrics_host)
        except OSError as exc:
            fail(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror}")
    _warn_of_a_weak_secret_key(settings)
    _require_schema(url)
    configure_logging(
        level=settings.log_level, as_json=settings.log_json, loggers=settings.log_levels
    )
    runtime = build_runtime(settings, url)
    # No queue named: every queue (procrastinate reads an absent list as all).
    options: dict[str, Any] = {"queues": chosen} if chosen else {}

    async def run() -> None:
        async with job_app.open_async():
            await until_signalled(
                keep_running(
                    lambda: job_app.run_worker_async(
                        concurrency=concurrency, install_signal_handlers=False, **options
                    ),
                    name="dedicated",
                ),
                name="dedicated",
            )
        await runtime.db.dispose()

    asyncio.run(run())


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on"),
    data_dir: Path | None = typer.Option(None, help="Where the embedded database lives"),
    fresh: bool = typer.Option(False, help="Start from an empty database"),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser"),
) -> None:
    """Start a complete demo: database, migrations, demo data, server and worker."""
    from xingdong.core.runtime import build_runtime
    from xingdong.demo.seed import (
        DEMO_HOLD_CHECK_HOURS,
        DEMO_HOLD_HOURS,
        DEMO_PASSWORD,
        seed_demo,
    )
    from xingdong.platforms.sandbox.inbox import INBOX_PATH

    # Before the database, the migrations and the seeding: the server binds last, and a
    # taken port showed the logins and "Open http://…" before its error.
    _refuse_a_taken_port(host, port)
    overrides: dict[str, object] = {
        "sms_reveal_codes": True,
        "log_json": False,
        "demo_crowd": True,
        "hold_hours": DEMO_HOLD_HOURS,
        "hold_check_hours": DEMO_HOLD_CHECK_HOURS,
        # Webhooks to this machine (the demo's own receiver) only while the demo listens
        # on it alone: on an address others reach, anyone registering could aim
        # webhooks at the network behind it.
        "webhook_private_targets": host in LOOPBACK_HOSTS,
        "support_contact": "support@xingdong.example",
    }
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = get_settings().model_copy(update=overrides)
    console.print("[bold]星动 Xingdong demo[/bold] — starting the database …")
    url = _database_url(settings)
    if fresh:
        asyncio.run(_reset_schema(url))
    console.print("applying migrations …")
    _upgrade(url)

    # Binding the workers' accounts asks the platform connectors, which live in the runtime.
    runtime = build_runtime(settings, url)

    browser_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - compares only, to print an address a browser can open
    inbox = f"http://{browser_host}:{port}{INBOX_PATH}" if host in LOOPBACK_HOSTS else None

    async def action(session: object) -> object:
        try:
            return await seed_demo(session, settings, inbox_url=inbox)  # type: ignore[arg-type]
        finally:
            await runtime.db.dispose()

    logins = _run(url, action)
    table = Table(title=f"Demo logins (password: {DEMO_PASSWORD})")
    table.add_column("role")
    table.add_column("phone")
    table.add_column("name")
    for login in logins:  # type: ignore[attr-defined]
        table.add_row(login.role, login.phone, login.name)
    console.print(table)
    address = f"http://{browser_host}:{port}/"
    console.print(f"Open [bold]{address}[/bold]  (Ctrl+C stops the demo)")
    if not no_browser:
        webbrowser.open(address)
    _serve(settings, url, host, port)


async def _reset_schema(url: str) -> None:
    from sqlalchemy import text

    from xingdong.core.db import Database

    database = Database(url, pool_size=1)
    async with database.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await database.dispose()


def settings_problems(exc: ValidationError) -> list[str]:
    """A line for each setting the environment got wrong, named as it is set."""
    lines = []
    for problem in exc.errors(include_url=False):
        if problem["type"] == "default_factory_not_called":
            continue  # a default made from another setting, which is the one wrong
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["loc"] and not message.startswith("XINGDONG_"):
            name = "XINGDONG_" + str(problem["loc"][0]).upper()
            given = problem.get("input")
            shown = (
                f" (set to {given!r})" if isinstance(given, str) and given not in message else ""
            )
            message = f"{name}: {message}{shown}"
        lines.append(message)
    return lines


def main() -> None:
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        # A missing option or a value out of range is bad input like any other: one line
        # naming the command's help, not the parser's usage text and a box around it.
        message = exc.format_message()
        context = getattr(exc, "ctx", None)
        hint = f" (see {context.command_path} --help)" if context is not None else ""
        if message:  # none: a group called alone, whose help was the answer
            err.print(f"[red]error:[/red] {message}{hint}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("[red]error:[/red] stopped", highlight=False)
        sys.exit(1)
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        for problem in settings_problems(exc):
            err.print(f"[red]error:[/red] {escape(problem)}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except SettingsError as exc:  # a setting of JSON that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        said = f"XINGDONG_{field[1].upper()}: not valid JSON" if field else str(exc)
        err.print(f"[red]error:[/red] {escape(said)}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
