"""The model serving runtime: ``runlab serve-model`` (Open Inference Protocol v2, MLflow /invocations).

cli.py         the command's options; starts the supervisor
supervisor.py  the parent process: holds the port, starts and restarts the workers, SIGTERM
worker.py      one worker process: uvicorn (uvloop, httptools) on a SO_REUSEPORT socket
app.py         the ASGI application: endpoints, errors, shadow copies, counting
runtime.py     what a worker serves and where it comes from; loading and hot swaps; deployment mode
router.py      slots of a revision and the traffic split (canary, shadow)
batching.py    adaptive micro-batching of concurrent requests into one predict call
codec.py       JSON requests to numpy arrays, checked against the signature; outputs back
metrics.py     Prometheus metrics (multiprocess)
telemetry.py   counts, latencies and sampled predictions reported to the companion server
"""
