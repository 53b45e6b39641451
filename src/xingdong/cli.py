"""The ``xingdong`` command."""

from __future__ import annotations

import asyncio
import signal
import sys
import webbrowser
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from xingdong.core.errors import XingdongError
from xingdong.core.settings import Settings, get_settings

app = typer.Typer(help="Xingdong (星动): the engagement task platform.", no_args_is_help=True)
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


def _database_url(settings: Settings) -> str:
    from xingdong.core.db import async_url
    from xingdong.core.runtime import resolve_database_url

    try:
        url = resolve_database_url(settings)
        async_url(url)
    except Exception as exc:  # noqa: BLE001 - reported as one line, whatever failed
        fail(f"cannot start or reach the database: {exc}")
    return url


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
        fail(exc.detail.format(**exc.extra) if exc.detail else exc.title)
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from sqlalchemy.exc import OperationalError

    from xingdong.core.migrate import upgrade

    url = _database_url(get_settings())
    try:
        upgrade(url, revision)
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}")
    console.print(f"database at revision {revision}")


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

    _run(_database_url(get_settings()), action)
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

    added = _run(_database_url(get_settings()), action)
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

    removed = _run(_database_url(get_settings()), action)
    console.print(f"{phone}: {role} {'revoked' if removed else 'was not held'}")


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Check every ledger invariant; exit 1 and list the problems if any fails."""
    from xingdong.ledger import service

    async def action(session: object) -> object:
        return await service.verify(session)  # type: ignore[arg-type]

    report = _run(_database_url(get_settings()), action)
    assert isinstance(report, service.VerifyReport)
    console.print(f"{report.accounts} accounts, {report.transfers} transfers checked")
    if report.ok:
        console.print("[green]ledger OK[/green]: every invariant holds")
        return
    for problem in report.problems:
        err.print(f"[red]problem:[/red] {problem}", highlight=False)
    raise typer.Exit(code=1)


bench_app = typer.Typer(help="Benchmarks, as ratios to a baseline of the same run.")
app.add_typer(bench_app, name="bench")


@bench_app.command("ledger")
def bench_ledger(
    seconds: float = typer.Option(10.0, help="Length of each measured phase"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of the figures"),
) -> None:
    """Ledger transfers per second, in-process and through the HTTP API, against pgbench's
    TPC-B on the same server."""
    import json

    from xingdong.bench import ledger as bench

    url = _database_url(get_settings())
    if not as_json:
        err.print(f"measuring pgbench, then the ledger service, {seconds:g} s each …")
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
    table.add_row("pgbench TPC-B (baseline)", f"{figures.pgbench_tps:,.0f}", "1.00")
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


@bench_app.command("dispatch")
def bench_dispatch(
    seeds: str = typer.Option("1,2", help="Comma-separated seeds, one workload each"),
    size: str = typer.Option("default", help="Workload size: quick, default or large"),
    quick: bool = typer.Option(False, "--quick", help="Same as --size quick"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object of the figures"),
) -> None:
    """The task feed against the offline optimum and four baselines (random, greedy,
    BALANCE, re-solving LP) on simulated days, per arrival order and budget tightness."""
    import json

    from xingdong.bench import dispatch as bench
    from xingdong.bench.dispatch_workload import SIZES

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
    progress = None if as_json else (lambda line: err.print(line, highlight=False))
    figures = bench.run(chosen, size, progress=progress)
    if as_json:
        print(json.dumps(figures.as_dict(), ensure_ascii=False))  # noqa: T201 - the output
        return
    for table in bench.tables(figures):
        console.print(table)


@ledger_app.command("reconcile")
def ledger_reconcile() -> None:
    """Compare the payment and payout providers' records with the ledger; exit 1 and list
    the differences if there are any."""
    from xingdong.core.runtime import build_runtime
    from xingdong.ledger import reconciliation

    url = _database_url(get_settings())
    runtime = build_runtime(get_settings(), url)

    async def action(session: object) -> object:
        report = await reconciliation.reconcile(
            session,  # type: ignore[arg-type]
            payments=runtime.payments,
            payouts=runtime.payouts,
        )
        await runtime.db.dispose()
        return report

    report = _run(url, action)
    assert isinstance(report, reconciliation.ReconciliationReport)
    console.print(f"{report.checked} deposits and withdrawals compared")
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

    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit
    # instead lets exit handlers run, among them the one that stops an embedded database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if workers > 1:
        # Each worker process builds its own app from the environment.
        os.environ["XINGDONG_DATABASE_URL"] = url
        os.environ["XINGDONG_RUN_WORKER_IN_PROCESS"] = str(settings.run_worker_in_process)
        uvicorn.run(
            "xingdong.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_config=None,
        )
        return
    application = create_app(settings, database_url=url)
    config = uvicorn.Config(
        application, host=host, port=port, proxy_headers=True, log_config=None, lifespan="on"
    )
    uvicorn.Server(config).run()


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    no_worker: bool = typer.Option(False, help="Do not run a job worker in this process"),
    workers: int = typer.Option(1, min=1, help="Server processes (each with its own pool)"),
) -> None:
    """Run the web server (with a job worker inside, unless --no-worker)."""
    settings = get_settings()
    if no_worker:
        settings = settings.model_copy(update={"run_worker_in_process": False})
    _serve(settings, _database_url(settings), host, port, workers)


@app.command()
def worker(
    concurrency: int = typer.Option(4, help="Jobs run at once by this worker"),
    queues: str = typer.Option("", help="Comma-separated queues (default: all)"),
) -> None:
    """Run a dedicated job worker (any number of them, on any hosts)."""
    from xingdong.core.jobs import build_job_app
    from xingdong.core.logging import configure_logging
    from xingdong.core.runtime import build_runtime

    settings = get_settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)
    url = _database_url(settings)
    runtime = build_runtime(settings, url)

    async def run() -> None:
        job_app = build_job_app(url)
        async with job_app.open_async():
            chosen = [q for q in queues.split(",") if q]
            if chosen:
                await job_app.run_worker_async(concurrency=concurrency, queues=chosen)
            else:
                await job_app.run_worker_async(concurrency=concurrency)
        await runtime.db.dispose()

    asyncio.run(run())


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    data_dir: Path | None = typer.Option(None, help="Where the embedded database lives"),
    fresh: bool = typer.Option(False, help="Start from an empty database"),
    no_browser: bool = typer.Option(False, help="Do not open a browser"),
) -> None:
    """Start a complete demo: database, migrations, demo data, server and worker."""
    from xingdong.core.migrate import upgrade
    from xingdong.core.runtime import build_runtime
    from xingdong.demo.seed import DEMO_PASSWORD, seed_demo

    overrides: dict[str, object] = {
        "sms_reveal_codes": True,
        "log_json": False,
        "demo_crowd": True,
        "hold_hours": 1,
    }
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = get_settings().model_copy(update=overrides)
    console.print("[bold]星动 Xingdong demo[/bold] — starting the database …")
    url = _database_url(settings)
    if fresh:
        asyncio.run(_reset_schema(url))
    console.print("applying migrations …")
    upgrade(url)

    # Binding the workers' accounts asks the platform connectors, which live in the runtime.
    runtime = build_runtime(settings, url)

    async def action(session: object) -> object:
        try:
            return await seed_demo(session, settings)  # type: ignore[arg-type]
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
    address = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"  # noqa: S104 - compares only, to print an address a browser can open
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
