"""Rows of batch/v1 kinds: Jobs (status, completions, duration) and CronJobs."""

from __future__ import annotations

import datetime as _dt

from testserver.apiserver.tables.columns import (
    AGE,
    BATCH,
    CONTAINERS,
    IMAGES,
    NAME,
    Cells,
    Col,
    PrinterEntry,
)
from testserver.apiserver.tables.durations import human_duration, parse_time, translate_timestamp_since
from testserver.apiserver.tables.wire import (
    Obj,
    age,
    condition_true,
    containers_cells,
    format_label_selector,
    int_at,
    list_at,
    map_at,
    name_of,
    str_at,
    value_at,
)

__all__ = ["PRINTERS"]


def _print_job(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = map_at(obj, "spec"), map_at(obj, "status")
    succeeded = int_at(status, "succeeded")
    if isinstance(value_at(spec, "completions"), int):
        completions = f"{succeeded}/{int_at(spec, 'completions')}"
    elif int_at(spec, "parallelism") > 1:
        completions = f"{succeeded}/1 of {int_at(spec, 'parallelism')}"
    else:
        completions = f"{succeeded}/1"
    start = parse_time(value_at(status, "startTime"))
    end = parse_time(value_at(status, "completionTime"))
    duration = ""
    if start is not None:
        duration = human_duration(((end or now) - start).total_seconds())
    conditions = list_at(status, "conditions")
    if condition_true(conditions, "Complete"):
        state = "Complete"
    elif condition_true(conditions, "Failed"):
        state = "Failed"
    elif value_at(obj, "metadata", "deletionTimestamp") is not None:
        state = "Terminating"
    elif condition_true(conditions, "Suspended"):
        state = "Suspended"
    elif condition_true(conditions, "FailureTarget"):
        state = "FailureTarget"
    elif condition_true(conditions, "SuccessCriteriaMet"):
        state = "SuccessCriteriaMet"
    else:
        state = "Running"
    names, images = containers_cells(value_at(spec, "template", "spec"))
    return [
        name_of(obj),
        state,
        completions,
        duration,
        age(obj, now),
        names,
        images,
        format_label_selector(value_at(spec, "selector")),
    ]


def _print_cronjob(obj: Obj, now: _dt.datetime) -> Cells:
    spec, status = map_at(obj, "spec"), map_at(obj, "status")
    job_spec = map_at(spec, "jobTemplate", "spec")
    names, images = containers_cells(value_at(job_spec, "template", "spec"))
    suspend = value_at(spec, "suspend")
    last = value_at(status, "lastScheduleTime")
    return [
        name_of(obj),
        str_at(spec, "schedule"),
        str_at(spec, "timeZone") or "<none>",
        suspend if isinstance(suspend, bool) else "<unset>",
        len(list_at(status, "active")),
        translate_timestamp_since(last, now) if last else "<none>",
        age(obj, now),
        names,
        images,
        format_label_selector(value_at(job_spec, "selector")),
    ]


PRINTERS: dict[tuple[str, str], PrinterEntry] = {
    ("batch", "Job"): (
        (
            NAME,
            Col("Status", doc="Status of the job."),
            Col("Completions", doc=(f"{BATCH}:JobStatus", "succeeded")),
            Col("Duration", doc="Time required to complete the job."),
            AGE,
            CONTAINERS,
            IMAGES,
            Col("Selector", doc=(f"{BATCH}:JobSpec", "selector"), priority=1),
        ),
        _print_job,
    ),
    ("batch", "CronJob"): (
        (
            NAME,
            Col("Schedule", doc=(f"{BATCH}:CronJobSpec", "schedule")),
            Col("Timezone", doc=(f"{BATCH}:CronJobSpec", "timeZone")),
            Col("Suspend", "boolean", (f"{BATCH}:CronJobSpec", "suspend")),
            Col("Active", "integer", (f"{BATCH}:CronJobStatus", "active")),
            Col("Last Schedule", doc=(f"{BATCH}:CronJobStatus", "lastScheduleTime")),
            AGE,
            CONTAINERS,
            IMAGES,
            Col("Selector", doc=(f"{BATCH}:JobSpec", "selector"), priority=1),
        ),
        _print_cronjob,
    ),
}
