"""`--env recreate`: the original run's packages in a virtual environment built with uv, cached
by package set, with a kernelspec a job's kernel starts from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import PYTHON_DIR
from nbformat.v4 import new_code_cell, new_notebook

from runlab.runners.environments import (
    EnvironmentBuildError,
    ensure_environment,
    package_key,
    requirements,
)
from runlab.runners.execute import execute_notebook


def test_the_package_set_key_ignores_order_and_runlab_is_not_installed_from_the_index() -> None:
    assert package_key(["b==1", "a==2"]) == package_key(["a==2", "b==1"])
    assert package_key(["a==2"]) != package_key(["a==3"])
    assert requirements(["runlab==0.1.0", "numpy==2.4.6"]) == ["ipykernel", "numpy==2.4.6"]
    assert requirements(["ipykernel==7.4.0", "Six==1.17.0"]) == ["ipykernel==7.4.0", "Six==1.17.0"]


def test_a_recreated_environment_runs_the_notebook_with_exactly_the_pinned_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packages = ["ipykernel==7.4.0", "six==1.17.0", "runlab==0.1.0"]
    kernel = ensure_environment(packages, tmp_path)
    env_dir = tmp_path / "envs" / package_key(packages)
    assert (env_dir / "bin" / "python").exists()
    assert ensure_environment(list(reversed(packages)), tmp_path) == kernel  # cached: the same one

    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = new_notebook(
        cells=[
            new_code_cell("import sys, six\nprint(sys.prefix)\nprint(six.__version__)"),
            new_code_cell("import runlab\nprint(runlab.__file__)"),
        ]
    )
    result = execute_notebook(nb, work_dir=tmp_path, kernel_name=kernel, env={"PYTHONPATH": ""})
    assert result.status == "finished", result.error
    printed = [line for cell in result.notebook.cells for o in cell.outputs for line in o.get("text", "").split()]
    assert printed[0] == str(env_dir) and printed[1] == "1.17.0"
    assert printed[2].startswith(str(PYTHON_DIR))  # the runner's own Runlab, through the .pth file


def test_an_environment_that_cannot_be_built_says_why(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentBuildError, match="installing the original run's") as failed:
        ensure_environment(["runlab-no-such-package-anywhere==1.0"], tmp_path)
    assert "runlab-no-such-package-anywhere" in str(failed.value)
    assert not (tmp_path / "envs" / package_key(["runlab-no-such-package-anywhere==1.0"])).exists()
    with pytest.raises(EnvironmentBuildError, match="no packages"):
        ensure_environment([], tmp_path)


assert os.sep == "/"  # the environments' layout (bin/python) is POSIX's, as runners are
