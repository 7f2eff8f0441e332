"""The load generator bench/serving.py drives every model server with: `wrk` (one thread, keep-alive
connections, a Lua script that POSTs the same body), or — when wrk cannot be installed — a tight
asyncio HTTP/1.1 client in this process, which on a small machine may itself be the bottleneck (the
figures then say so). Either way every server gets the same generator, connections and durations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

# `done` runs once at the end in wrk's main thread; latencies are microseconds.
WRK_SCRIPT = """\
local f = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # connection errors, timeouts and answers ≥ 400

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str | None:
    """wrk from Debian's packages (installed with apt-get when this runs as root), else None."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    print("  installing wrk (Debian package) for the load generator…", flush=True)
    quiet = {
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    }
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], **quiet)
    return shutil.which("wrk")


class LoadGenerator:
    def __init__(self, wrk: str | None) -> None:
        self.wrk = wrk
        self.dir = Path(tempfile.mkdtemp(prefix="runlab-bench-load-"))
        (self.dir / "post.lua").write_text(WRK_SCRIPT)

    @property
    def name(self) -> str:
        if self.wrk:
            version = subprocess.run([self.wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0]
            return f"{version.split(' [')[0].strip() or 'wrk'}, 1 thread, keep-alive"
        return "asyncio HTTP/1.1 client in the benchmark process (wrk missing: may be the bottleneck)"

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, url: str, body: bytes, connections: int, seconds: float) -> LoadResult:
        if not self.wrk:
            return asyncio.run(_asyncio_load(url, body, connections, seconds))
        body_file = self.dir / "body.json"
        body_file.write_bytes(body)
        command = [self.wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
        command += ["-s", str(self.dir / "post.lua"), url]
        done = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "BENCH_BODY_FILE": str(body_file)}
        )
        match = re.search(r"WRK_RESULT (\{.*\})", done.stdout)
        if not match:
            raise SystemExit(f"wrk gave no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
        figures = json.loads(match.group(1))
        errors = sum(figures[key] for key in ("connect", "read", "write", "status", "timeout"))
        return LoadResult(
            requests=figures["requests"],
            seconds=figures["duration_us"] / 1e6,
            p50_ms=figures["p50_us"] / 1000,
            p99_ms=figures["p99_us"] / 1000,
            max_ms=figures["max_us"] / 1000,
            errors=errors,
        )


async def _asyncio_load(url: str, body: bytes, connections: int, seconds: float) -> LoadResult:
    parts = urlsplit(url)
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    request = head + body
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                writer.write(request)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - start)
                if not status_line.startswith(b"HTTP/1.1 2"):
                    errors += 1
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return LoadResult(len(latencies), elapsed, at(0.5), at(0.99), ordered[-1] * 1000, errors)
