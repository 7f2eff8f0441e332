"""`runlab models dockerfile [REF] [-o FILE] [--force]`: the serving image's Dockerfile, generic or
with a registered version's pinned requirements, on stdout or into a file it will not overwrite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import PYTHON_DIR, RUNLAB_ENV, RunningServer

import runlab

ENTRYPOINT = 'ENTRYPOINT ["python", "-m", "runlab", "serve-model"]'
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def cli(server: RunningServer | None, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in RUNLAB_ENV}
    env["PYTHONPATH"] = str(PYTHON_DIR)
    if server is not None:
        env.update(RUNLAB_URL=server.url, RUNLAB_TOKEN=server.token)
    return subprocess.run(
        [sys.executable, "-m", "runlab", "models", "dockerfile", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_a_ref_it_prints_the_generic_serving_image() -> None:
    done = cli(None)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert f"FROM python:{PYTHON}-slim" in text
    assert f"runlab=={runlab.__version__}" in text
    assert "ENV PYTHONUNBUFFERED=1" in text and "EXPOSE 8080" in text
    assert "USER 10001" in text and "USER root" not in text
    assert text.rstrip().endswith(ENTRYPOINT)
    assert "The model is not baked in" in text
    assert "scikit-learn" not in text
    assert cli(None, "-o", "-").stdout == text


def test_with_a_ref_it_installs_that_versions_pinned_requirements(
    runlab_server: RunningServer, project: str, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    features = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    with runlab.start():
        runlab.model(LogisticRegression().fit(features, [0, 1, 0, 1]), name="docker-churn", input_example=features)
    with runlab.Client(runlab_server.url, runlab_server.token) as client:
        client.request("PUT", "/api/models/docker-churn/aliases/production", json={"version": 1})
        version = client.request("GET", "/api/models/docker-churn/versions/1")
    pins = [pin for pin in version["requirements"] if not pin.lower().startswith("runlab==")]
    assert any(pin.startswith("scikit-learn==") for pin in pins), version["requirements"]

    by_alias = cli(runlab_server, "docker-churn@production")
    assert by_alias.returncode == 0, by_alias.stderr
    for pin in pins:
        assert f"    {pin}" in by_alias.stdout, (pin, by_alias.stdout)
    assert f"runlab=={runlab.__version__}" in by_alias.stdout
    assert "docker-churn@v1 (docker-churn@production)" in by_alias.stdout
    assert by_alias.stdout.rstrip().endswith(ENTRYPOINT)

    # The Docker-style tag names the same version: the same image.
    by_tag = cli(runlab_server, "docker-churn:1")
    assert by_tag.returncode == 0, by_tag.stderr
    assert [line for line in by_tag.stdout.splitlines() if not line.startswith("#")] == [
        line for line in by_alias.stdout.splitlines() if not line.startswith("#")
    ]

    missing = cli(runlab_server, "docker-churn@v9")
    assert missing.returncode == 1 and "no model version docker-churn@v9" in missing.stderr
    bad = cli(runlab_server, "not a ref")
    assert bad.returncode == 2 and "is not a model reference" in bad.stderr


def test_it_writes_a_file_and_refuses_to_overwrite_one_without_force(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    written = cli(None, "-o", str(target))
    assert written.returncode == 0, written.stderr
    assert written.stdout == "" and f"Wrote {target}" in written.stderr
    assert target.read_text().rstrip().endswith(ENTRYPOINT)

    target.write_text("FROM scratch\n")
    refused = cli(None, "-o", str(target))
    assert refused.returncode == 1
    assert "exists; pass --force to overwrite it" in refused.stderr and "Traceback" not in refused.stderr
    assert target.read_text() == "FROM scratch\n"

    forced = cli(None, "-o", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert target.read_text().rstrip().endswith(ENTRYPOINT)
