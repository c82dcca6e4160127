"""A whole robot day, driven by the robots' own published client against a running server.

The robots report to the dashboard through the PyPI library `mbu-process-dashboard-shared-components`
(which imports `mbu-rpa-core`); this script calls only that library's public functions for everything a
robot does, and plain `requests` only for what the library has no function for: the administrator's
set-up (a process with three steps, a `user` key for the robot) and reading results back.

The day: find the process and its steps by name, start runs for two citizens (Danish names, CPR-like
entity ids), find each run by CPR and each step run by (process, step, CPR), report running -> success
for every step of run 1, and on run 2 success for step 1 and a failure (a raised BusinessError with
Danish text) for step 2, leaving step 3 pending. Then the derived run statuses must be `completed` and
`failed`, the timestamps set, and the failure object must come back exactly as the library sent it.

Environment: ROBOT_SERVER_URL (e.g. http://127.0.0.1:8798) and ROBOT_ADMIN_KEY (an admin key).
ROBOT_TRACE=1 prints every request the library and the script sent. Exits non-zero on any mismatch.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from mbu_process_dashboard_shared_components.process import (
    find_process_id_and_steps,
    get_dashboard_process_id,
)
from mbu_process_dashboard_shared_components.process_dashboard_client import ProcessDashboardClient
from mbu_process_dashboard_shared_components.process_run import (
    create_dashboard_run,
    get_all_process_runs,
    get_dashboard_run_id,
    get_process_run_by_cpr,
)
from mbu_process_dashboard_shared_components.process_step import get_dashboard_step_id
from mbu_process_dashboard_shared_components.process_step_run import (
    build_step_run_update,
    get_step_run_id_for_process_step_cpr,
    update_dashboard_step_run_by_id,
)
from mbu_rpa_core.exceptions import BusinessError

PROCESS_NAME = "Flytning af borgere – Århus Kommune (robotdag æøå)"
STEP_NAMES = ["Hent oplysninger fra CPR", "Opret sag på borgeren i ESDH", "Send kvittering – Digital Post"]
RERUN_CONFIG = {"max_retries": 2, "subprocess_id": "opret_sag_v2", "note": "Genkør ved fejl – Ærø"}
CITIZENS = [
    {"cpr": "0304871234", "name": "Søren Østergård Kjærgaard", "kommune": "Aarhus", "sagsnummer": "S2026-00101"},
    {"cpr": "2708925678", "name": "Åse Bjørnø Lærkesen", "kommune": "Skanderborg", "sagsnummer": "S2026-00102"},
]
FAILURE_TEXT = "Borgeren er fraflyttet – sagen kunne ikke oprettes på Århus Rådhus, Sønder Allé 2 (æøå ÆØÅ)"


class DayFailed(Exception):
    """A mismatch between what the day expects and what the server answered."""


def check(condition: bool, message: str, *detail: Any) -> None:
    if not condition:
        raise DayFailed(message + "".join("\n    " + json.dumps(d, ensure_ascii=False, default=str) for d in detail))


# --- a wire log of every request (library and script), printed on failure or with ROBOT_TRACE=1 -------
WIRE: list[str] = []
_send = requests.sessions.Session.send


def _recording_send(self, request, **kwargs):  # type: ignore[no-untyped-def]
    body = request.body.decode("utf-8") if isinstance(request.body, bytes) else request.body
    try:
        response = _send(self, request, **kwargs)
    except Exception as error:
        WIRE.append(f"{request.method} {request.path_url} {body or ''} -> {type(error).__name__}")
        raise
    answer = "" if 200 <= response.status_code < 300 else " " + response.text[:300]
    WIRE.append(f"{request.method} {request.path_url} {body or ''} -> {response.status_code}{answer}")
    return response


requests.sessions.Session.send = _recording_send  # observes only: the request and response are unchanged


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


class Admin:
    """Plain HTTP for what the library has no function for: set-up and reading results."""

    def __init__(self, url: str, key: str):
        self.url = url.rstrip("/")
        self.headers = {"X-API-Key": key}

    def call(self, method: str, path: str, expected: int, body: dict | None = None) -> Any:
        response = requests.request(method, self.url + path, headers=self.headers, json=body, timeout=30)
        check(
            response.status_code == expected,
            f"{method} {path} answered {response.status_code}, expected {expected}",
            response.text[:1000],
        )
        return response.json() if response.content else None


def main() -> int:
    url = os.environ.get("ROBOT_SERVER_URL", "http://127.0.0.1:8798").rstrip("/")
    admin_key = os.environ.get("ROBOT_ADMIN_KEY")
    if not admin_key:
        print("ROBOT_ADMIN_KEY is not set", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="  library %(levelname)s %(name)s: %(message)s")
    day_start = datetime.now(timezone.utc) - timedelta(seconds=1)
    admin = Admin(url, admin_key)

    # --- the administrator's set-up (the library has no function for it) --------------------------------
    process = admin.call("POST", "/api/v1/processes", 201, {"name": PROCESS_NAME, "meta": {"department": "Borgerservice"}})
    step_ids = []
    for index, name in enumerate(STEP_NAMES):
        body: dict[str, Any] = {"process_id": process["id"], "index": index, "name": name}
        if index == 1:
            body |= {"is_rerunnable": True, "rerun_config": RERUN_CONFIG}
        step_ids.append(admin.call("POST", "/api/v1/steps", 201, body)["id"])
    robot_key = admin.call("POST", "/api/v1/api-keys", 201, {"name": "robot-flytning-01", "role": "user"})["key"]

    # --- the robot: only the library from here on (reads back with plain HTTP) ---------------------------
    client = ProcessDashboardClient(robot_key, base_url=f"{url}/api/v1")

    process_id = get_dashboard_process_id(client, PROCESS_NAME)
    check(process_id == process["id"], "get_dashboard_process_id found the wrong process", process_id, process["id"])
    found_id, found_steps = find_process_id_and_steps(client, PROCESS_NAME)
    check(found_id == process_id, "find_process_id_and_steps found the wrong process", found_id)
    check(
        [s.get("name") for s in found_steps] == STEP_NAMES and [s.get("id") for s in found_steps] == step_ids,
        "find_process_id_and_steps: the process's steps differ (names/ids in index order)",
        found_steps,
    )
    for name, step_id in zip(STEP_NAMES, step_ids):
        got = get_dashboard_step_id(client, process_id, name)
        check(got == step_id, f"get_dashboard_step_id({name!r}) = {got}, expected {step_id}")

    for citizen in CITIZENS:
        check(
            get_process_run_by_cpr(client, PROCESS_NAME, citizen["cpr"]) is False,
            f"get_process_run_by_cpr found a run for {citizen['cpr']} before any was created",
        )
        create_dashboard_run(client, PROCESS_NAME, dict(citizen))  # answers nothing: the library drops the reply

    run_ids = []
    for citizen in CITIZENS:
        check(
            get_process_run_by_cpr(client, PROCESS_NAME, citizen["cpr"]) is True,
            f"get_process_run_by_cpr finds no run for {citizen['cpr']} (was it created? see the wire log)",
        )
        run_id = get_dashboard_run_id(client, process_id, citizen["cpr"])
        runs = get_all_process_runs(client, process_id=process_id, entity_id=citizen["cpr"])
        check(len(runs) == 1 and runs[0]["id"] == run_id, f"get_all_process_runs(entity_id={citizen['cpr']})", runs)
        run = runs[0]
        check(run["entity_id"] == citizen["cpr"], "entity_id differs", run["entity_id"])
        check(run["entity_name"] == citizen["name"], "entity_name (æøå) did not round-trip", run["entity_name"])
        check(run["meta"] == citizen, "meta did not round-trip", run["meta"], citizen)
        check(run["status"] == "pending", "a new run should be pending", run["status"])
        check(run["started_at"] is None and run["finished_at"] is None, "a new run has no start/finish time", run)
        check([s["step_id"] for s in run["steps"]] == step_ids, "a new run has one step run per step", run["steps"])
        check(all(s["status"] == "pending" for s in run["steps"]), "new step runs are pending", run["steps"])
        run_ids.append(run_id)
    check(len(set(run_ids)) == 2, "the two citizens got the same run", run_ids)
    both = get_all_process_runs(client, process_id=process_id)
    check([r["id"] for r in both] == run_ids[::-1], "get_all_process_runs: newest first, two runs", [r["id"] for r in both])

    # every step run, found the robots' way: process name + step name + CPR
    step_run_ids: list[list[int]] = []
    for citizen, run_id in zip(CITIZENS, run_ids):
        ids = []
        for name, step_id in zip(STEP_NAMES, step_ids):
            step_run_id = get_step_run_id_for_process_step_cpr(client, PROCESS_NAME, name, citizen["cpr"])
            step_run = admin.call("GET", f"/api/v1/step-runs/{step_run_id}", 200)
            check(
                step_run["run_id"] == run_id and step_run["step_id"] == step_id,
                f"step run for ({name!r}, {citizen['cpr']}) belongs elsewhere",
                step_run,
            )
            ids.append(step_run_id)
        step_run_ids.append(ids)
    rerunnable = admin.call("GET", f"/api/v1/step-runs/{step_run_ids[0][1]}", 200)
    check(
        rerunnable["can_rerun"] is True and rerunnable["rerun_config"] == RERUN_CONFIG,
        "the step run copies the step's rerun settings",
        rerunnable,
    )

    sent: dict[int, dict] = {}

    def report(step_run_id: int, status: str, failure: Exception | None = None) -> dict:
        update = build_step_run_update(status, failure=failure)
        body, code = update_dashboard_step_run_by_id(client, step_run_id, update)
        check(code is not None and 200 <= code < 300, f"PATCH step run {step_run_id} -> {status} failed", body)
        check(body["status"] == status, f"PATCH answered status {body['status']}, expected {status}", body)
        sent[step_run_id] = update
        return body

    def run_of(run_id: int) -> dict:
        return admin.call("GET", f"/api/v1/runs/{run_id}", 200)

    # run 1: every step running -> success
    for position, step_run_id in enumerate(step_run_ids[0]):
        report(step_run_id, "running")
        run = run_of(run_ids[0])
        check(run["status"] == "running", f"run 1 with step {position + 1} running", run["status"])
        check(run["started_at"] is not None and run["finished_at"] is None, "a running run: started, not finished", run)
        report(step_run_id, "success")
    # run 2: step 1 succeeds, step 2 fails with a business error, step 3 is never reached
    report(step_run_ids[1][0], "running")
    report(step_run_ids[1][0], "success")
    report(step_run_ids[1][1], "running")
    try:
        raise BusinessError(FAILURE_TEXT)
    except BusinessError as error:
        failed = report(step_run_ids[1][1], "failed", failure=error)
    failure_sent = sent[step_run_ids[1][1]]["failure"]
    check(
        failure_sent["message"] == FAILURE_TEXT and failure_sent["error_code"] == "BusinessError",
        "build_step_run_update did not build the BusinessError failure expected",
        failure_sent,
    )
    check(failed["failure"] == failure_sent, "PATCH answer: the failure object differs from what was sent", failed["failure"], failure_sent)

    # --- read the day back -------------------------------------------------------------------------------
    day_end = datetime.now(timezone.utc) + timedelta(seconds=1)
    expected = {run_ids[0]: "completed", run_ids[1]: "failed"}
    for run_id, status in expected.items():
        run = run_of(run_id)
        check(run["status"] == status, f"run {run_id}: status {run['status']}, expected {status}")
        started, finished = parse_time(run["started_at"]), parse_time(run["finished_at"])
        check(started is not None and finished is not None, f"run {run_id}: started_at and finished_at set", run)
        check(day_start <= started <= finished <= day_end, f"run {run_id}: times out of order or outside the day", run)
        for step_run in run["steps"]:
            update = sent.get(step_run["id"])
            if update is None:  # run 2, step 3: never reached
                check(step_run["status"] == "pending" and step_run["started_at"] is None, "untouched step", step_run)
                continue
            check(step_run["status"] == update["status"], "step run status differs", step_run, update)
            # the library sends both timestamps on every PATCH; they are applied as sent
            for member in ("started_at", "finished_at"):
                check(
                    parse_time(step_run[member]) == parse_time(update[member]),
                    f"step run {step_run['id']}: {member} is not what the library sent",
                    step_run[member],
                    update[member],
                )
            check(step_run["failure"] == update["failure"], "step run failure differs", step_run["failure"], update["failure"])
            # the library sends rerun_config {} on every PATCH: it must not wipe the step's rerun target
            kept = RERUN_CONFIG if step_run["step_index"] == 1 else {}
            check(step_run["rerun_config"] == kept, "the library's rerun_config {} changed the stored one", step_run)
    stored = admin.call("GET", f"/api/v1/step-runs/{step_run_ids[1][1]}", 200)
    check(stored["failure"] == failure_sent, "GET step run: the failure object did not round-trip", stored["failure"], failure_sent)
    check(stored["can_rerun"] is True, "the failed step stays rerunnable", stored)
    by_step = admin.call("GET", f"/api/v1/step-runs/run/{run_ids[1]}/step/{step_ids[1]}", 200)
    check(by_step["failure"] == failure_sent, "GET by run and step: failure differs", by_step["failure"])
    listed = {r["id"]: r for r in get_all_process_runs(client, process_id=process_id)}
    check({i: listed[i]["status"] for i in run_ids} == expected, "get_all_process_runs: statuses", listed)
    check(listed[run_ids[1]]["steps"][1]["failure"] == failure_sent, "listed run: failure differs", listed[run_ids[1]])
    for status, run_id in (("failed", run_ids[1]), ("completed", run_ids[0])):
        runs = get_all_process_runs(client, process_id=process_id, run_status=status)
        check([r["id"] for r in runs] == [run_id], f"get_all_process_runs(run_status={status})", [r["id"] for r in runs])
    # urlencode's form encoding: "+" for spaces, UTF-8 percent-escapes for æøå
    runs = get_all_process_runs(client, process_id=process_id, entity_name="åse bjørnø")
    check([r["id"] for r in runs] == [run_ids[1]], "get_all_process_runs(entity_name='åse bjørnø')", [r["id"] for r in runs])
    # what a Python robot passes for a time: an offset-less isoformat() with microseconds (read as UTC)
    naive_start = day_start.replace(tzinfo=None).isoformat()
    runs = get_all_process_runs(client, process_id=process_id, started_after=naive_start)
    check(sorted(r["id"] for r in runs) == sorted(run_ids), f"get_all_process_runs(started_after={naive_start})", runs)
    runs = get_all_process_runs(client, process_id=process_id, started_before=naive_start)
    check(runs == [], f"get_all_process_runs(started_before={naive_start})", runs)

    print(f"robot day against {url}: process {process_id} {PROCESS_NAME!r}, steps {step_ids}")
    for citizen, run_id in zip(CITIZENS, run_ids):
        run = run_of(run_id)
        steps = ", ".join(s["status"] for s in run["steps"])
        print(f"  run {run_id} {citizen['name']} ({citizen['cpr']}): {run['status']} [{steps}] {run['started_at']} -> {run['finished_at']}")
    print(f"  failure round-trip: {json.dumps(stored['failure'], ensure_ascii=False)}")
    print(f"  {len(WIRE)} requests; library used: find_process_id_and_steps, get_dashboard_process_id, get_dashboard_step_id,")
    print("  get_process_run_by_cpr, create_dashboard_run, get_dashboard_run_id, get_all_process_runs,")
    print("  get_step_run_id_for_process_step_cpr, build_step_run_update, update_dashboard_step_run_by_id")
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    try:
        code = main()
    except Exception as error:  # DayFailed, or the library giving up (RuntimeError after its retries)
        print(f"ROBOT DAY FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        print("last requests:", file=sys.stderr)
        for line in WIRE[-15:]:
            print("  " + line, file=sys.stderr)
        code = 1
    if os.environ.get("ROBOT_TRACE") == "1":
        print("wire log:")
        for line in WIRE:
            print("  " + line)
    print(f"robot day {'passed' if code == 0 else 'FAILED'} in {time.monotonic() - started:.1f}s")
    sys.exit(code)
