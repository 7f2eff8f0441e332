"""Runners: real `runlab runner start` processes executing notebooks as jobs, against a real
companion server started here. Prints figures; never asserts on time.

1. dispatch latency: enqueue → the job's attempt starts on an idle runner (the server's own
   timestamps: attempt.startedAt - job.createdAt), and enqueue → the first cell executing (a cell
   that prints time.time(), read back from the job log; includes the kernel start). Budgets:
   p50 ≤ 100 ms and p50 ≤ 2 s.
2. overhead: one 10-cell notebook run by papermill (CLI, and its Python API in this process) vs
   as a Runlab job on one local runner (submit → finished). Budget ≤ 1.2× papermill.
3. throughput: N one-cell jobs drained by 4 local runners, --max-jobs 1 each (one kernel per
   runner at a time: on a small machine more would only queue on the CPUs). jobs/s, drain time.
4. memory: server RSS with 200 connected runners — SIMULATED agents (bench/runners_memory.mjs),
   which register, connect, say hello and heartbeat, but take no jobs.
5. recovery: kill -9 a runner mid-job with a second one idle; time from the kill to the job's
   second attempt starting, on a server with a short lease (budget ≤ lease + 5 s).

    .venv/bin/python bench/runners.py [--jobs 1000] [--latency-jobs 30] [--reps 5] [--agents 200]
                                      [--lease-ms 5000] [--only dispatch,overhead,throughput,memory,recovery]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "python"))

import nbformat  # noqa: E402
import psutil  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

import runlab  # noqa: E402

ENDED = ("finished", "failed", "cancelled", "timed_out")
PARTS = ("dispatch", "overhead", "throughput", "memory", "recovery")


# -- a server and runner processes ----------------------------------------------------------------


@dataclass
class Server:
    url: str
    token: str
    process: subprocess.Popen[bytes]

    def client(self) -> runlab.Client:
        return runlab.Client(self.url, self.token)


@contextlib.contextmanager
def server(work: Path, name: str, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """`node server/dist/cli.js serve --port 0` on a fresh data directory (as bench/ingest.py)."""
    data_dir = work / f"{name}-data"
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
    env["RUNLAB_LOG_LEVEL"] = "warn"
    env.update(extra_env or {})
    with open(work / f"{name}-server.log", "w") as log:
        process = subprocess.Popen(
            ["node", str(REPO / "server" / "dist" / "cli.js"), "serve", "--port", "0", "--data-dir", str(data_dir)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                info = json.loads((data_dir / "server.json").read_text())
                token = (data_dir / "admin-token").read_text().strip()
                break
            except (OSError, ValueError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the Runlab server did not start; see {work / f'{name}-server.log'}") from None
                time.sleep(0.05)
        yield Server(info["url"].rstrip("/"), token, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Runner:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    seen: set[int] = field(default_factory=set)

    def remember_children(self) -> None:
        with contextlib.suppress(psutil.NoSuchProcess):
            self.seen.update(child.pid for child in psutil.Process(self.process.pid).children(recursive=True))


class Runners:
    """Real `runlab runner start` processes (as python/tests/conftest.py starts them)."""

    def __init__(self, server: Server, work: Path) -> None:
        self.server, self.work, self.started = server, work, []

    def start(self, name: str, labels: list[str], max_jobs: int = 1) -> Runner:
        with self.server.client() as api:
            token = api.add_runner({"name": name, "labels": labels, "maxJobs": max_jobs})["token"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("RUNLAB_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "python"), os.environ.get("PYTHONPATH")]))
        env["RUNLAB_DATA_DIR"] = str(self.work / f"runner-{name}-data")
        env["PYTHONUNBUFFERED"] = "1"
        log_path = self.work / f"runner-{name}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [
                    *[sys.executable, "-m", "runlab", "runner", "start", "--server", self.server.url, "--token", token],
                    *["--work-dir", str(self.work / f"runner-{name}"), "--drain-grace", "2"],
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        runner = Runner(name, process, log_path)
        self.started.append(runner)
        return runner

    def wait_online(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for runner in self.started:
            while "waiting for jobs" not in runner.log_path.read_text(errors="replace"):
                if runner.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"runner {runner.name} did not come online:\n{runner.log_path.read_text()}")
                time.sleep(0.05)

    def stop_all(self) -> None:
        for runner in self.started:
            runner.remember_children()
            if runner.process.poll() is None:
                runner.process.send_signal(signal.SIGTERM)
                runner.process.send_signal(signal.SIGTERM)  # a second signal: stop at once
        for runner in self.started:
            try:
                runner.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                runner.process.kill()
                runner.process.wait()
            for pid in runner.seen:
                with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError):
                    psutil.Process(pid).kill()
        self.started = []


@contextlib.contextmanager
def runner_pool(server: Server, work: Path) -> Iterator[Runners]:
    pool = Runners(server, work)
    try:
        yield pool
    finally:
        pool.stop_all()


# -- helpers --------------------------------------------------------------------------------------


def notebook(*sources: str) -> dict[str, Any]:
    cells = [new_code_cell(source) for source in sources]
    return dict(nbformat.from_dict(new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC})))


KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def ensure_project(api: runlab.Client, project: str) -> None:
    try:
        api.create_project(project)
    except runlab.RunlabError as error:
        if error.status != 409:
            raise


def submit(api: runlab.Client, project: str, nb: dict[str, Any], labels: list[str], **options: Any) -> dict[str, Any]:
    body = {"project": project, "notebookPath": "job.ipynb", "notebook": nb, "labels": labels, **options}
    return api.submit_job(body)


def wait_job(api: runlab.Client, job_id: str, statuses: tuple[str, ...], timeout: float, poll: float = 0.02) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = api.get_job(job_id)
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise SystemExit(f"job {job_id} did not become {'/'.join(statuses)} within {timeout:g} s: {job}")
        time.sleep(poll)


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(label: str, samples: list[float], unit: str = "ms", scale: float = 1000) -> None:
    print(
        f"  {label:<66} p50 {pct(samples, 0.5) * scale:>8,.0f} {unit}   p95 {pct(samples, 0.95) * scale:>8,.0f} {unit}"
        f"   (n={len(samples)})"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


# -- 1. dispatch latency --------------------------------------------------------------------------


def bench_dispatch(srv: Server, work: Path, jobs: int) -> None:
    print(f"\n1. Enqueue → started on an idle runner ({jobs} one-cell jobs, one after another; 1 runner, --max-jobs 1)")
    label = f"lat-{uuid.uuid4().hex[:6]}"
    nb = notebook("import time\nprint(f'T0={time.time():.6f}', flush=True)")
    attempt_start, observed, first_cell_server, first_cell_client, kernel_part = [], [], [], [], []
    with runner_pool(srv, work) as pool, srv.client() as api:
        ensure_project(api, "bench-runners")
        pool.start(f"idle-{label}", [label])
        pool.wait_online()
        for _ in range(2):  # warm-up, not counted: first imports, first kernel start
            wait_job(api, submit(api, "bench-runners", nb, [label])["id"], ENDED, 120)
        for _ in range(jobs):
            before_post = time.time()
            job = submit(api, "bench-runners", nb, [label])
            while True:  # polled as fast as the API answers: what a watcher sees
                current = api.get_job(job["id"])
                if current["status"] != "queued":
                    observed.append(time.time() - before_post)
                    break
            done = wait_job(api, job["id"], ENDED, 120)
            if done["status"] != "finished":
                raise SystemExit(f"a latency job did not finish: {done}\n{api.job_log(job['id'])}")
            created, started = epoch(done["createdAt"]), epoch(done["attempts"][0]["startedAt"])
            attempt_start.append(started - created)
            match = re.search(r"T0=([0-9.]+)", api.job_log(job["id"]))
            if match is None:
                raise SystemExit(f"no T0 in the job log of {job['id']}")
            t0 = float(match.group(1))
            first_cell_server.append(t0 - created)
            first_cell_client.append(t0 - before_post)
            kernel_part.append(t0 - started)
    line("enqueue → attempt started (server: attempt.startedAt - createdAt)", attempt_start)
    line("POST /api/jobs sent → GET /api/jobs/:id says running (client)", observed)
    print(f"  budget: p50 ≤ 100 ms (server timestamps) — {verdict(pct(attempt_start, 0.5) <= 0.1)}")
    line("enqueue → first cell executing (createdAt → cell's time.time())", first_cell_server)
    line("POST /api/jobs sent → first cell executing (client clock)", first_cell_client)
    line("    of which attempt started → first cell (fetch, kernel start)", kernel_part)
    print(f"  budget: p50 ≤ 2 s including kernel start — {verdict(pct(first_cell_server, 0.5) <= 2)}")
    print("  (both clocks are this machine's; server timestamps have millisecond resolution)")


# -- 2. overhead vs papermill ---------------------------------------------------------------------

TEN_CELLS = [
    "import math, time\nstate = {'n': 0}",
    *[
        f"total = sum(math.sqrt(i) for i in range(200_000))\nstate['n'] += 1\nprint({i}, round(total))"
        for i in range(8)
    ],
    "print('done', state['n'])",
]


def bench_overhead(srv: Server, work: Path, reps: int) -> None:
    print(f"\n2. The same 10-cell notebook: papermill vs a Runlab job on one local runner ({reps} repetitions each)")
    try:
        import papermill  # noqa: F401
    except ImportError:
        print("  papermill is not installed (.venv/bin/pip install papermill==2.7.0); skipped")
        return
    nb = notebook(*TEN_CELLS)
    source = work / "ten-cells.ipynb"
    source.write_text(json.dumps(nb))
    papermill_bin = shutil.which("papermill", path=str(Path(sys.executable).parent)) or "papermill"
    cli, api_times, job_times, job_server = [], [], [], []
    for rep in range(reps + 1):  # the first of each is a warm-up, not counted
        tick = time.perf_counter()
        subprocess.run(
            [papermill_bin, str(source), str(work / f"pm-{rep}.ipynb"), "-k", "python3", "--log-level", "ERROR"],
            check=True,
            capture_output=True,
        )
        if rep:
            cli.append(time.perf_counter() - tick)
    import papermill as pm

    for rep in range(reps + 1):
        with quiet_stderr(work / "papermill-api-kernel.log"):  # the kernel's TCP warning goes to our fd 2
            tick = time.perf_counter()
            pm.execute_notebook(
                str(source), str(work / f"pm-api-{rep}.ipynb"), kernel_name="python3", progress_bar=False
            )
            elapsed = time.perf_counter() - tick
        if rep:
            api_times.append(elapsed)
    label = f"ovh-{uuid.uuid4().hex[:6]}"
    with runner_pool(srv, work) as pool, srv.client() as api:
        ensure_project(api, "bench-runners")
        pool.start(f"overhead-{label}", [label])
        pool.wait_online()
        for rep in range(reps + 1):
            tick = time.perf_counter()
            job = submit(api, "bench-runners", nb, [label])
            done = wait_job(api, job["id"], ENDED, 300, poll=0.02)
            elapsed = time.perf_counter() - tick
            if done["status"] != "finished":
                raise SystemExit(f"the 10-cell job did not finish: {done}\n{api.job_log(job['id'])}")
            if rep:
                job_times.append(elapsed)
                job_server.append(epoch(done["finishedAt"]) - epoch(done["createdAt"]))
    med = statistics.median
    rows = [
        ("papermill CLI (new process: python start, imports, kernel)", cli),
        ("papermill.execute_notebook (in this process, warm imports)", api_times),
        ("Runlab job: POST /api/jobs → GET says finished (20 ms polls)", job_times),
        ("Runlab job: server createdAt → finishedAt", job_server),
    ]
    for label, samples in rows:
        print(f"  {label:<62} median {med(samples):6.2f} s   min {min(samples):6.2f} s   {fmt(samples)}")
    ratio_cli, ratio_api = med(job_times) / med(cli), med(job_times) / med(api_times)
    best_api = min(job_times) / min(api_times)
    print(
        f"  overhead ratio (medians): job / papermill CLI = {ratio_cli:.2f}×, job / papermill API = {ratio_api:.2f}×;"
        f" fastest job / fastest API run = {best_api:.2f}×"
    )
    print(
        f"  budget: ≤ 1.2× papermill — CLI {verdict(ratio_cli <= 1.2)}, API {verdict(ratio_api <= 1.2)},"
        f" best vs best {verdict(best_api <= 1.2)}"
    )


@contextlib.contextmanager
def quiet_stderr(path: Path) -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def fmt(samples: list[float]) -> str:
    return "(" + ", ".join(f"{s:.2f}" for s in samples) + ")"


# -- 3. throughput --------------------------------------------------------------------------------


STALL_S = 60


def bench_throughput(srv: Server, work: Path, jobs: int, runners: int = 4) -> None:
    print(f"\n3. {jobs} one-cell jobs over {runners} local runners (--max-jobs 1 each; {os.cpu_count()} CPUs here)")
    label = f"tp-{uuid.uuid4().hex[:6]}"
    nb = notebook("x = 1 + 1")
    project = f"bench-throughput-{label}"
    with runner_pool(srv, work) as pool, srv.client() as api:
        ensure_project(api, project)
        for i in range(runners):
            pool.start(f"tp-{i}-{label}", [label])
        pool.wait_online()
        # Warm-up, not counted: one job per runner.
        warm = [submit(api, project, nb, [label])["id"] for _ in range(runners)]
        for job_id in warm:
            wait_job(api, job_id, ENDED, 120, poll=0.1)
        tick = time.perf_counter()
        ids = [submit(api, project, nb, [label])["id"] for _ in range(jobs)]
        submitted = time.perf_counter() - tick
        ended, last_change, stuck = -1, time.monotonic(), []
        while True:
            queued = api.list_jobs(project=project, status="queued", limit=1)["total"]
            running = api.list_jobs(project=project, status="running", limit=100)
            now_ended = len(ids) + len(warm) - queued - running["total"]
            if now_ended != ended:
                ended, last_change = now_ended, time.monotonic()
            if queued == 0 and running["total"] == 0:
                break
            if time.monotonic() - last_change > STALL_S:
                # Nothing ended for a while: jobs stuck "running" would hold the benchmark for ever.
                stuck = running["jobs"]
                break
            time.sleep(0.2)
        drained = time.perf_counter() - tick - (STALL_S if stuck else 0)
        for job in stuck:
            api.cancel_job(job["id"])
        listed = api.list_jobs(project=project, limit=1000)["jobs"]
    measured = [job for job in listed if job["id"] in set(ids)]
    by_status: dict[str, int] = {}
    for job in measured:
        by_status[job["status"]] = by_status.get(job["status"], 0) + 1
    first_created = min(epoch(job["createdAt"]) for job in measured)
    last_finished = max(epoch(job["finishedAt"]) for job in measured if job["finishedAt"])
    server_span = last_finished - first_created
    print(
        f"  submitting {jobs} jobs (POST /api/jobs, notebook JSON each, one client)  {submitted:6.1f} s"
        f"  ({jobs / submitted:,.0f} jobs/s)"
    )
    print(
        f"  first POST → queue drained (client, {'up to the last job that ended' if stuck else 'none queued or running'})   {drained:6.1f} s"
    )
    print(f"  server: first job created → last job finished                         {server_span:6.1f} s")
    print(
        f"  throughput (jobs ended / server span)                                 {len(measured) / server_span:6.2f} jobs/s"
    )
    print(f"  per runner ≈ {runners * server_span / len(measured):.2f} s a job (one kernel each); outcomes {by_status}")
    errors: dict[str, int] = {}
    for job in measured:
        if job["status"] == "failed":
            errors[job["error"]] = errors.get(job["error"], 0) + 1
    for error, count in errors.items():
        print(f"  FAILED ×{count}: {error}")
    for job in stuck:
        print(
            f"  STUCK: job {job['id']} 'running' on {job['runnerName']} since {job['startedAt']}, progress"
            f" {job['progress']}; nothing ended for {STALL_S} s, so the benchmark cancelled it and moved on"
        )


# -- 4. memory with 200 runners ------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith("VmRSS:"):
            return int(text.split()[1]) / 1024
    return float("nan")


def bench_memory(work: Path, agents: int) -> None:
    print(f"\n4. Companion-server RSS with {agents} connected runners — SIMULATED agents, taking no jobs")
    with server(work, "memory") as srv:
        time.sleep(1)
        idle = rss_mb(srv.process.pid)
        result = subprocess.run(
            [
                *["node", str(REPO / "bench" / "runners_memory.mjs"), "--url", srv.url, "--token", srv.token],
                *["--pid", str(srv.process.pid), "--runners", str(agents), "--hold", "15"],
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        if result.returncode != 0:
            print(f"  the simulated agents failed:\n{result.stderr}{result.stdout}")
            return
        figures = json.loads(result.stdout.strip().splitlines()[-1])
    rss = figures["rssMb"]
    print(
        f"  agents: one socket.io-client connection each to /runners in one Node process, own runner token,\n"
        f"  runner:hello (4 CPUs, 8 GB), runner:heartbeat every {figures['heartbeatMs']} ms (the server's default;"
        f" lease {figures['leaseMs']} ms);\n  no job submitted, offers refused ({figures['offers']} came)"
    )
    rows = [
        ("server RSS, freshly started (1 s after start)", idle),
        (
            f"after {agents} POST /api/runners (tokens, none connected; {figures['registerS']:.1f} s)",
            rss["afterRegister"],
        ),
        (f"after {agents} connected + runner:hello ({figures['connectS']:.1f} s)", rss["afterConnect"]),
        (f"after {figures['holdS']} s of heartbeats ({figures['heartbeats']} acknowledged)", rss["afterHold"]),
        (f"highest of the per-second samples during those {figures['holdS']} s", rss["holdMax"]),
        ("1 s after all disconnected", rss["afterDisconnect"]),
    ]
    for label, value in rows:
        print(f"  {label:<66} {value:8.1f} MB")
    if figures["heartbeatErrors"]:
        print(f"  heartbeats refused or timed out: {figures['heartbeatErrors']} {figures['heartbeatErrorReasons']}")
    growth = rss["holdMax"] - rss["before"]
    print(
        f"  growth with {agents} runners (highest - before): {growth:+.1f} MB (≈ {growth / agents * 1024:.0f} kB a runner;"
        f" RSS includes V8 heap not yet collected); server listed {figures['online']} online"
    )


# -- 5. recovery after kill -9 --------------------------------------------------------------------


def bench_recovery(work: Path, lease_ms: int, heartbeat_ms: int, reps: int) -> None:
    print(
        f"\n5. kill -9 a runner mid-job, a second runner idle: kill → second attempt started"
        f" (lease {lease_ms} ms, heartbeat {heartbeat_ms} ms; {reps} kills)"
    )
    env = {"RUNLAB_RUNNER_HEARTBEAT_MS": str(heartbeat_ms), "RUNLAB_RUNNER_LEASE_MS": str(lease_ms)}
    nb = notebook("import time\nprint('working', flush=True)\ntime.sleep(600)")
    to_second, to_second_server, to_running = [], [], []
    with server(work, "recovery", env) as srv, srv.client() as api:
        ensure_project(api, "bench-recovery")
        for rep in range(reps):
            label = f"rec-{rep}-{uuid.uuid4().hex[:6]}"
            with runner_pool(srv, work) as pool:
                first, second = pool.start(f"a-{label}", [label]), pool.start(f"b-{label}", [label])
                pool.wait_online()
                job = submit(api, "bench-recovery", nb, [label], maxRetries=2)
                deadline = time.monotonic() + 120
                while True:
                    current = api.get_job(job["id"])
                    if current["status"] == "running" and (current.get("progress") or {}).get("cell") == 0:
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit(f"the recovery job never reached its first cell: {current}")
                    time.sleep(0.05)
                victim = first if current["runnerName"] == first.name else second
                victim.remember_children()
                victim.process.send_signal(signal.SIGKILL)
                killed_wall, killed = time.time(), time.monotonic()
                victim.process.wait()
                while True:
                    current = api.get_job(job["id"])
                    if len(current["attempts"]) >= 2:
                        to_second.append(time.monotonic() - killed)
                        to_second_server.append(epoch(current["attempts"][1]["startedAt"]) - killed_wall)
                        break
                    if time.monotonic() - killed > lease_ms / 1000 + 60:
                        raise SystemExit(f"no second attempt 60 s past the lease: {current}")
                    time.sleep(0.02)
                while True:
                    current = api.get_job(job["id"])
                    if (current.get("progress") or {}).get("cell") == 0 and current["attempts"][-1][
                        "status"
                    ] == "running":
                        to_running.append(time.monotonic() - killed)
                        break
                    if time.monotonic() - killed > lease_ms / 1000 + 90:
                        break
                    time.sleep(0.05)
                first_status = current["attempts"][0]["status"]
                api.cancel_job(job["id"])
    print(f"  first attempt's status after the kill: {first_status}")
    print(
        f"  kill → second attempt started (client poll, 20 ms)   median {statistics.median(to_second):6.2f} s   {fmt(to_second)}"
    )
    print(
        f"  kill → attempts[1].startedAt (server timestamp)      median {statistics.median(to_second_server):6.2f} s   {fmt(to_second_server)}"
    )
    if to_running:
        print(
            f"  kill → second attempt running its first cell         median {statistics.median(to_running):6.2f} s   {fmt(to_running)}"
        )
    budget = lease_ms / 1000 + 5
    print(f"  budget: ≤ lease + 5 s = {budget:g} s — {verdict(statistics.median(to_second) <= budget)}")


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("BENCH_RUNNER_JOBS", "1000")))
    parser.add_argument("--latency-jobs", type=int, default=30)
    parser.add_argument("--reps", type=int, default=5, help="repetitions of the overhead comparison")
    parser.add_argument("--agents", type=int, default=200, help="simulated runners for the memory figure")
    parser.add_argument("--lease-ms", type=int, default=5000)
    parser.add_argument("--heartbeat-ms", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--only", default=",".join(PARTS))
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if parts - set(PARTS):
        parser.error(f"--only takes {', '.join(PARTS)}")
    if not (REPO / "server" / "dist" / "cli.js").exists():
        raise SystemExit("server/dist/cli.js is missing: npm run build -w server (npm run bench does it)")

    work = Path(tempfile.mkdtemp(prefix="runlab-bench-runners-"))
    started = time.perf_counter()
    print(f"runners benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, work dir {work}")
    try:
        if parts & {"dispatch", "overhead", "throughput"}:
            # The server's default heartbeat (5 s) and lease (30 s): these parts kill no runner.
            with server(work, "jobs") as srv:
                if "dispatch" in parts:
                    bench_dispatch(srv, work, args.latency_jobs)
                if "overhead" in parts:
                    bench_overhead(srv, work, args.reps)
                if "throughput" in parts:
                    bench_throughput(srv, work, args.jobs)
        if "memory" in parts:
            bench_memory(work, args.agents)
        if "recovery" in parts:
            bench_recovery(work, args.lease_ms, args.heartbeat_ms, args.kills)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n(whole benchmark: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
