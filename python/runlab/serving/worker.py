"""One serving worker process: ``python -m runlab.serving.worker OPTIONS_JSON`` (started by the supervisor).

Each worker binds its own listening socket on the shared port with SO_REUSEPORT, so the kernel
spreads new connections evenly across workers (a socket shared by inheritance lets one busy
worker take most of them). uvicorn runs the ASGI app with uvloop and httptools; on SIGTERM it
stops accepting, finishes the requests in flight and the worker exits 0.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import socket
import sys
import threading
import time

from runlab.serving.runtime import Options, Runtime


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def main(argv: list[str]) -> int:
    import uvicorn

    from runlab.serving.app import ServingApp

    fields = {f.name for f in dataclasses.fields(Options)}
    options = Options(**{k: v for k, v in json.loads(argv[0]).items() if k in fields})
    options.token = os.environ.pop("RUNLAB_SERVING_TOKEN", None) or options.token
    # predict holds the GIL for most of a call (a forest's Python per tree); a shorter switch
    # interval lets the event loop read and queue requests meanwhile, so batches fill up.
    sys.setswitchinterval(float(os.environ.get("RUNLAB_SERVING_SWITCH_INTERVAL", "0.001")))
    sock = listening_socket(options.host, options.port)
    runtime = Runtime(options)
    config = uvicorn.Config(
        ServingApp(runtime),
        loop=_loop(),
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        backlog=2048,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=30,
    )
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    _exit_with_parent()
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _exit_with_parent() -> None:
    """A supervisor killed with SIGKILL cannot stop its workers; they notice and stop themselves
    (gracefully), so no orphan keeps the port."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="runlab-parent-watch", daemon=True).start()


def _loop() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
