"""Runner agents as real `runlab runner start` processes against the real server (0.5 s heartbeat,
3 s lease): labels, a runner killed mid-job, a dead kernel, cancel, timeout, and a drain."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
from conftest import RUNNER_LEASE_MS, Runners, RunningServer, start_server, stop_server, wait_until
from nbformat.v4 import new_code_cell, new_notebook

import runlab

ENDED = ("finished", "failed", "cancelled", "timed_out")


def notebook(*sources: str, parameters: str | None = None) -> dict[str, Any]:
    cells = []
    if parameters is not None:
        cells.append(new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    cells += [new_code_cell(source) for source in sources]
    return dict(nbformat.from_dict(new_notebook(cells=cells)))


def client(server: RunningServer) -> runlab.Client:
    return runlab.Client(server.url, server.token)


def submit(server: RunningServer, nb: dict[str, Any], **options: Any) -> dict[str, Any]:
    project = options.pop("project", f"jobs-{uuid.uuid4().hex[:6]}")
    body = {"project": project, "notebookPath": "job.ipynb", "notebook": nb, **options}
    with client(server) as api:
        ensure_project(api, project)
        return api.submit_job(body)


def ensure_project(api: runlab.Client, project: str) -> None:
    try:
        api.create_project(project)
    except runlab.RunlabError as error:
        if error.status != 409:
            raise


def job(server: RunningServer, job_id: str) -> dict[str, Any]:
    with client(server) as api:
        return api.get_job(job_id)


def wait_for_status(server: RunningServer, job_id: str, statuses: tuple[str, ...], timeout: float) -> dict[str, Any]:
    return wait_until(
        lambda: (lambda j: j if j["status"] in statuses else None)(job(server, job_id)),
        timeout,
        f"job {job_id} did not become {'/'.join(statuses)}",
    )


def wait_for_cell(server: RunningServer, job_id: str, cell: int, timeout: float = 60) -> dict[str, Any]:
    """Until the job runs code cell ``cell`` (0-based) on some runner."""

    def running() -> dict[str, Any] | None:
        current = job(server, job_id)
        assert current["status"] not in ENDED, current
        progress = current.get("progress") or {}
        return current if current["status"] == "running" and progress.get("cell") == cell else None

    return wait_until(running, timeout, f"job {job_id} did not reach cell {cell + 1}")


def test_a_job_that_needs_a_gpu_runs_on_the_gpu_runner(runner_server: RunningServer, runners: Runners) -> None:
    tag = uuid.uuid4().hex[:6]
    runners.start(f"cpu-a-{tag}", ["bigmem"])
    runners.start(f"cpu-b-{tag}")
    runners.start(f"gpu-{tag}", ["gpu"])

    gpu_job = submit(runner_server, notebook("print('on the gpu')"), labels=["gpu"])
    plain = [submit(runner_server, notebook(f"print({n})")) for n in range(3)]
    done = wait_for_status(runner_server, gpu_job["id"], ENDED, 90)
    assert done["status"] == "finished", done
    assert done["runnerName"] == f"gpu-{tag}"
    assert [a["runnerName"] for a in done["attempts"]] == [f"gpu-{tag}"]
    for queued in plain:
        assert wait_for_status(runner_server, queued["id"], ENDED, 90)["status"] == "finished"
    with client(runner_server) as api:
        assert "on the gpu" in api.job_log(gpu_job["id"])
        listed = {r["name"]: r for r in api.list_runners()}
    assert {listed[f"gpu-{tag}"]["status"], listed[f"cpu-a-{tag}"]["status"]} == {"online"}
    assert "gpu" in listed[f"gpu-{tag}"]["labels"] and listed[f"gpu-{tag}"]["capacity"]["cpus"] >= 1


def test_a_runner_killed_mid_job_loses_the_job_to_another_runner(
    runner_server: RunningServer, runners: Runners
) -> None:
    tag = uuid.uuid4().hex[:6]
    label = f"pool-{tag}"  # only these two runners may take it
    first = runners.start(f"first-{tag}", [label])
    second = runners.start(f"second-{tag}", [label])
    # The killed runner's kernel lives on and logs after its sleep: the server must refuse that.
    nb = notebook(
        "import runlab, time\nprint('working', flush=True)\ntime.sleep(6)\nrunlab.metric('after_sleep', 1.0)\nrunlab.flush()",
        "print('done')",
    )
    submitted = submit(runner_server, nb, labels=[label])

    running = wait_for_cell(runner_server, submitted["id"], 0)
    victim = first if running["runnerName"] == first.name else second
    victim.remember_children()
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait()
    killed_at = time.monotonic()

    done = wait_for_status(runner_server, submitted["id"], ENDED, RUNNER_LEASE_MS / 1000 + 10 + 6)
    assert done["status"] == "finished", done
    assert time.monotonic() - killed_at <= RUNNER_LEASE_MS / 1000 + 10 + 6
    attempts = done["attempts"]
    assert len(attempts) == 2, attempts
    assert [a["status"] for a in attempts].count("finished") == 1
    assert attempts[0]["runnerName"] == victim.name and attempts[0]["status"] == "lost"
    assert attempts[1]["runnerName"] != victim.name and attempts[1]["status"] == "finished"
    with client(runner_server) as api:
        run = api.get_run(done["runId"])
    assert run["status"] == "finished"
    assert run["metrics"]["after_sleep"]["count"] == 1  # the lost attempt's late point was refused


def test_a_kernel_that_dies_fails_the_job_within_seconds(runner_server: RunningServer, runners: Runners) -> None:
    tag = uuid.uuid4().hex[:6]
    runners.start(f"dies-{tag}", [f"dies-{tag}"])
    nb = notebook("print('before')", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "print('never')")
    submitted = submit(runner_server, nb, labels=[f"dies-{tag}"])
    started = time.monotonic()
    done = wait_for_status(runner_server, submitted["id"], ENDED, 60)
    assert done["status"] == "failed"
    assert "kernel died" in (done["error"] or "").lower()
    assert time.monotonic() - started < 30
    assert len(done["attempts"]) == 1  # a failure of the notebook is not retried


def test_cancel_stops_a_running_job(runner_server: RunningServer, runners: Runners) -> None:
    tag = uuid.uuid4().hex[:6]
    runner = runners.start(f"cancel-{tag}", [f"cancel-{tag}"])
    submitted = submit(runner_server, notebook("import time\ntime.sleep(120)"), labels=[f"cancel-{tag}"])
    wait_for_cell(runner_server, submitted["id"], 0)
    with client(runner_server) as api:
        api.cancel_job(submitted["id"])
    done = wait_for_status(runner_server, submitted["id"], ENDED, 20)
    assert done["status"] == "cancelled"
    runner.wait_for_output("cancelled", timeout=10)
    # The runner is free again: the next job runs.
    after = submit(runner_server, notebook("1 + 1"), labels=[f"cancel-{tag}"])
    assert wait_for_status(runner_server, after["id"], ENDED, 60)["status"] == "finished"


def test_a_job_past_its_timeout_is_timed_out(runner_server: RunningServer, runners: Runners) -> None:
    tag = uuid.uuid4().hex[:6]
    runners.start(f"slow-{tag}", [f"slow-{tag}"])
    submitted = submit(runner_server, notebook("import time\ntime.sleep(120)"), labels=[f"slow-{tag}"], timeoutS=3)
    done = wait_for_status(runner_server, submitted["id"], ENDED, 40)
    assert done["status"] == "timed_out", done
    assert done["attempts"][-1]["status"] == "timed_out"


def test_sigterm_drains_the_runner_after_its_job_finishes(runner_server: RunningServer, runners: Runners) -> None:
    tag = uuid.uuid4().hex[:6]
    runner = runners.start(f"drain-{tag}", [f"drain-{tag}"], drain_grace=60)
    nb = notebook("import time\ntime.sleep(4)\nprint('finished the work')")
    submitted = submit(runner_server, nb, labels=[f"drain-{tag}"])
    wait_for_cell(runner_server, submitted["id"], 0)
    runner.process.send_signal(signal.SIGTERM)
    runner.wait_for_output("draining", timeout=10)
    later = submit(runner_server, notebook("1"), labels=[f"drain-{tag}"])  # it takes nothing new

    assert runner.process.wait(timeout=60) == 0
    done = job(runner_server, submitted["id"])
    assert done["status"] == "finished", done
    assert len(done["attempts"]) == 1
    assert job(runner_server, later["id"])["status"] == "queued"
    with client(runner_server) as api:
        api.cancel_job(later["id"])
        drained = {r["name"]: r for r in api.list_runners()}[f"drain-{tag}"]
    assert drained["status"] in ("offline", "draining")


def test_parameters_are_injected_and_the_executed_notebook_is_kept(
    runner_server: RunningServer, runners: Runners
) -> None:
    tag = uuid.uuid4().hex[:6]
    runners.start(f"params-{tag}", [f"params-{tag}"])
    nb = notebook("import runlab\nrunlab.metric('twice', epochs * 2)\nprint('epochs', epochs)", parameters="epochs = 1")
    submitted = submit(runner_server, nb, labels=[f"params-{tag}"], parameters={"epochs": 21})
    done = wait_for_status(runner_server, submitted["id"], ENDED, 60)
    assert done["status"] == "finished", done
    with client(runner_server) as api:
        assert "epochs 21" in api.job_log(submitted["id"])
        run = api.get_run(done["runId"])
    assert run["metrics"]["twice"]["latest"] == 42
    assert run["status"] == "finished"


def test_a_job_survives_a_server_restart_on_the_runner_that_runs_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "restarting-server"
    data_dir.mkdir()
    # A lease longer than the restart takes (the server waits for its sockets to close on SIGTERM).
    settings = {"RUNLAB_RUNNER_HEARTBEAT_MS": "500", "RUNLAB_RUNNER_LEASE_MS": "25000"}
    process, server = start_server(data_dir, extra_env=settings)
    pool = Runners(server, tmp_path)
    try:
        runner = pool.start("steady")
        nb = notebook("import time\ntime.sleep(6)\nprint('survived')")
        submitted = submit(server, nb)
        wait_for_cell(server, submitted["id"], 0)
        stopping = time.monotonic()
        stop_server(process)
        print(f"the server took {time.monotonic() - stopping:.1f} s to stop")
        process, server = start_server(data_dir, port=int(server.url.rsplit(":", 1)[1]), extra_env=settings)
        runner.wait_for_output("reconnected; still running 1 job(s)", timeout=30)
        done = wait_for_status(server, submitted["id"], ENDED, 30)
        assert done["status"] == "finished", done
        assert len(done["attempts"]) == 1  # the runner said it still ran the attempt, and kept it
        with client(server) as api:
            assert "survived" in api.job_log(submitted["id"])
    finally:
        pool.stop_all()
        stop_server(process)


def test_a_job_reads_the_dataset_version_it_pinned(
    runner_server: RunningServer, runners: Runners, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    project = f"data-{tag}"
    runlab.configure(url=runner_server.url, token=runner_server.token, project=project)
    folder = tmp_path / "measurements"
    folder.mkdir()
    (folder / "values.csv").write_text("x\n1\n")
    first = runlab.dataset("measurements").commit(folder, progress=False)
    (folder / "values.csv").write_text("x\n2\n")
    runlab.dataset("measurements").commit(folder, progress=False)  # v2 is the latest

    runners.start(f"data-{tag}", [f"data-{tag}"])
    nb = notebook(
        "import runlab\nfolder = runlab.dataset('measurements').path(progress=False)\n"
        "print('read', (folder / 'values.csv').read_text().split()[1])"
    )
    submitted = submit(
        runner_server, nb, project=project, labels=[f"data-{tag}"], datasets={"measurements": first.label}
    )
    done = wait_for_status(runner_server, submitted["id"], ENDED, 60)
    assert done["status"] == "finished", done
    with client(runner_server) as api:
        assert "read 1" in api.job_log(submitted["id"])
        run = api.get_run(done["runId"])
    assert {"kind": "dataset", "name": f"measurements@{first.label}"}.items() <= run["inputs"][0].items()


def test_a_runner_with_two_slots_runs_two_jobs_at_once(runner_server: RunningServer, runners: Runners) -> None:
    tag = uuid.uuid4().hex[:6]
    runners.start(f"wide-{tag}", [f"wide-{tag}"], max_jobs=2)
    nb = notebook("import time\ntime.sleep(4)")
    started = time.monotonic()
    jobs = [submit(runner_server, nb, labels=[f"wide-{tag}"]) for _ in range(2)]
    for submitted in jobs:
        assert wait_for_status(runner_server, submitted["id"], ENDED, 60)["status"] == "finished"
    assert time.monotonic() - started < 4 * 2 + 3  # side by side, not one after the other


def test_a_removed_runner_stops_and_exits_with_a_message(runner_server: RunningServer, runners: Runners) -> None:
    tag = uuid.uuid4().hex[:6]
    runner = runners.start(f"removed-{tag}", [f"removed-{tag}"])
    with client(runner_server) as api:
        runner_id = {r["name"]: r for r in api.list_runners()}[runner.name]["id"]
        api.request("DELETE", f"/api/runners/{runner_id}")
    assert runner.process.wait(timeout=20) == 1
    assert "removed by the server" in runner.output()
