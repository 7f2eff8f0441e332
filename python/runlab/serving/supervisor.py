"""The parent process of ``runlab serve-model``: holds the port, starts the workers, restarts any
that dies (with backoff), and on SIGTERM stops them gracefully and exits 0.

It loads no model itself. It binds the port first (without listening: a bound, non-listening
SO_REUSEPORT socket gets no connections) so that a busy port is a clear error before anything
starts, ``--port 0`` resolves to one port that every worker shares, and the port stays ours
while a worker restarts.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import runlab
from runlab.serving.runtime import FATAL_EXIT, Options

RESTART_BACKOFF_MAX = 10.0
HEALTHY_AFTER_SECONDS = 30.0
STOP_GRACE_SECONDS = 35.0


class StartError(Exception):
    """The runtime cannot start as asked: exit 1 with this message."""


def hold_port(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Without SO_REUSEPORT first: another server on the port (even one of ours) is an error.
    probe = socket.socket(family, socket.SOCK_STREAM)
    # SO_REUSEADDR still refuses a port another socket listens on, but not one whose earlier
    # connections linger in TIME_WAIT (a runtime restarted after a SIGKILL keeps its port).
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
        port = probe.getsockname()[1]
    except OSError as error:
        raise StartError(f"cannot listen on {host}:{port} ({error.strerror}): pass another --port") from None
    finally:
        probe.close()
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((host, port))
    except OSError as error:
        holder.close()
        raise StartError(f"cannot listen on {host}:{port} ({error.strerror}): pass another --port") from None
    return holder


@dataclasses.dataclass
class Worker:
    index: int
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None


class Supervisor:
    def __init__(self, options: Options, workers: int, description: str) -> None:
        self.options = options
        self.count = workers
        self.description = description
        self.stopping = False
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="runlab-serving-metrics-"))
        self.workers = [Worker(i) for i in range(workers)]

    def run(self) -> int:
        holder = hold_port(self.options.host, self.options.port)
        self.options.port = holder.getsockname()[1]
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            for worker in self.workers:
                self._start(worker)
            host = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
            print(
                f"runlab serve-model: serving {self.description} on http://{host}:{self.options.port} "
                f"with {self.count} worker{'s' if self.count != 1 else ''}",
                file=sys.stderr,
                flush=True,
            )
            return self._watch()
        finally:
            self._terminate_all()
            holder.close()
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True

    def _environment(self, worker: Worker) -> dict[str, str]:
        env = dict(os.environ)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(self.metrics_dir)
        # The workers import this same runlab, installed or not.
        package_root = str(Path(runlab.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        env["RUNLAB_SERVING_WORKER"] = str(worker.index)
        # The token travels in the environment, never on a command line every local user can read.
        if self.options.token:
            env["RUNLAB_SERVING_TOKEN"] = self.options.token
        return env

    def _start(self, worker: Worker) -> None:
        options = dataclasses.replace(self.options, worker=worker.index, token=None)
        worker.process = subprocess.Popen(
            [sys.executable, "-m", "runlab.serving.worker", json.dumps(dataclasses.asdict(options))],
            env=self._environment(worker),
        )
        worker.started_at = time.monotonic()
        worker.restart_at = None

    def _watch(self) -> int:
        from runlab.serving import metrics

        while not self.stopping:
            now = time.monotonic()
            for worker in self.workers:
                process = worker.process
                if process is not None and process.poll() is not None:
                    code = process.returncode
                    metrics.mark_process_dead(process.pid)
                    worker.process = None
                    if code == FATAL_EXIT:
                        return 1  # the worker said why on stderr
                    if now - worker.started_at > HEALTHY_AFTER_SECONDS:
                        worker.failures = 0
                    delay = min(0.25 * 2**worker.failures, RESTART_BACKOFF_MAX)
                    worker.failures += 1
                    worker.restart_at = now + delay
                    how = f"signal {-code}" if code < 0 else f"code {code}"
                    print(
                        f"runlab serve-model: worker {worker.index} (pid {process.pid}) exited with {how}; "
                        f"restarting in {delay:g} s",
                        file=sys.stderr,
                        flush=True,
                    )
                if worker.process is None and worker.restart_at is not None and now >= worker.restart_at:
                    self._start(worker)
            time.sleep(0.1)
        return 0

    def _terminate_all(self) -> None:
        running = [w.process for w in self.workers if w.process is not None and w.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
