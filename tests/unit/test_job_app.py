"""The process's job app: every domain's jobs, however many times it is asked for, on the
database asked for last."""

from __future__ import annotations

from xingdong.core.jobs import JOB_MODULES, build_job_app


def test_asking_again_gives_the_same_jobs_on_the_new_database() -> None:
    first = build_job_app("postgresql://u@127.0.0.1:5432/first")
    first_connector = first.connector
    second = build_job_app("postgresql://u@127.0.0.1:5432/second")
    # Adding a blueprint renames its tasks in place: a second app built afresh had none.
    assert second is first
    assert "dispatch:seed_prices" in second.tasks
    namespaces = {name.split(":")[0] for name in second.tasks}
    assert namespaces >= {module.split(".")[1] for module in JOB_MODULES}
    # Moved to the second database: jobs are read and written there.
    assert second.connector is not first_connector
    assert second.job_manager.connector is second.connector
