"""The scheduler's wrapper (shopdesk/app.py): each job under its own name, timed and counted."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from apscheduler.events import EVENT_JOB_EXECUTED

from core.jobs import Job
from shopdesk.app import run_job, schedule_jobs


def sample(app, name: str, job: str) -> float | None:
    return app.metrics.registry.get_sample_value(name, {"job": job})


async def test_each_scheduled_job_has_its_own_name_in_apscheduler_and_its_logs(app, caplog):
    async def probe(uows) -> int:
        return 0

    real_names = [job.name for job in app.jobs]
    schedule_jobs(app)
    assert [job.name for job in app.scheduler.get_jobs()] == real_names
    assert all("<locals>" not in job.name for job in app.scheduler.get_jobs())
    app.scheduler.remove_all_jobs()

    app.jobs = [Job("probe_job", timedelta(hours=1), probe)]
    caplog.set_level(logging.INFO, logger="apscheduler")
    schedule_jobs(app)
    executed = asyncio.Event()
    app.scheduler.add_listener(lambda event: executed.set(), EVENT_JOB_EXECUTED)
    app.scheduler.start()
    try:
        async with asyncio.timeout(5):
            await executed.wait()
    finally:
        app.scheduler.shutdown(wait=False)
    assert 'Running job "probe_job (trigger: interval' in caplog.text
    assert "<locals>" not in caplog.text
    assert sample(app, "shopdesk_job_duration_seconds_count", "probe_job") == 1
    assert sample(app, "shopdesk_job_last_success_timestamp_seconds", "probe_job") > 0


async def test_a_run_records_duration_and_last_success_and_a_failure_only_its_duration(
    app, caplog, monkeypatch
):
    async def works(uows) -> int:
        await asyncio.sleep(0.02)
        return 3

    async def breaks(uows) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr("time.time", lambda: 1_800_000_000.0)
    await run_job(app, Job("works", timedelta(minutes=1), works))
    await run_job(app, Job("breaks", timedelta(minutes=1), breaks))  # logged, never raised

    assert sample(app, "shopdesk_job_duration_seconds_count", "works") == 1
    assert sample(app, "shopdesk_job_duration_seconds_sum", "works") >= 0.02
    assert sample(app, "shopdesk_job_last_success_timestamp_seconds", "works") == 1_800_000_000
    assert sample(app, "shopdesk_job_items_total", "works") == 3
    assert sample(app, "shopdesk_job_duration_seconds_count", "breaks") == 1
    assert sample(app, "shopdesk_job_last_success_timestamp_seconds", "breaks") is None
    assert "job breaks failed" in caplog.text
    assert not app.running_jobs
