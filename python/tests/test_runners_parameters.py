"""Parameters of a runner job: read from the `parameters` cell, checked, injected, and used by a real kernel."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from runlab.runners.execute import execute_notebook
from runlab.runners.parameters import (
    Declared,
    ParametersCellError,
    check_parameters,
    declared_parameters,
    inject_parameters,
)

PARAMETERS_SOURCE = """\
%matplotlib inline
epochs = 10  # passes over the data
lr: float = 1
name = "baseline"
verbose = False
seed = None
layers = [64, 32]  # hidden sizes
options = {"dropout": 0.1}
steps = epochs * 100
a = b = -2
x, y = 1, 2
pair = (1, 2)
"""


def notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells))


def parameters_cell(source: str = PARAMETERS_SOURCE) -> nbformat.NotebookNode:
    return new_code_cell(source, metadata={"tags": ["parameters"]})


def test_declared_parameters_reads_literals_annotations_comments_and_non_literals() -> None:
    nb = notebook(new_markdown_cell("# Train"), new_code_cell("import math"), parameters_cell())

    declared = declared_parameters(nb)

    assert list(declared) == ["epochs", "lr", "name", "verbose", "seed", "layers", "options", "steps", "a", "b", "pair"]
    assert declared["epochs"] == Declared("epochs", "int", 10, "10", "passes over the data")
    # The annotation says float even though the literal is an int.
    assert declared["lr"] == Declared("lr", "float", 1, "1", None)
    assert declared["name"].type_name == "str" and declared["name"].default == "baseline"
    assert declared["verbose"].type_name == "bool" and declared["verbose"].default is False
    assert declared["seed"].type_name == "NoneType" and declared["seed"].default is None
    assert declared["layers"] == Declared("layers", "list", [64, 32], "[64, 32]", "hidden sizes")
    assert declared["options"].type_name == "dict" and declared["options"].default == {"dropout": 0.1}
    # Not a literal: recorded, not checked, shown as written.
    assert declared["steps"] == Declared("steps", None, None, "epochs * 100", None)
    assert declared["a"].default == -2 and declared["b"].type_name == "int"
    # A tuple is a literal JSON cannot carry: unchecked.
    assert declared["pair"].type_name is None
    assert "x" not in declared and "y" not in declared


def test_only_the_first_tagged_code_cell_counts_and_source_may_be_a_list_of_lines() -> None:
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "markdown", "metadata": {"tags": ["parameters"]}, "source": "not code"},
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": ["alpha = 0.5\n", "beta = 2\n"]},
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "gamma = 1"},
        ],
    }
    assert {name: p.default for name, p in declared_parameters(nb).items()} == {"alpha": 0.5, "beta": 2}


def test_no_parameters_cell_declares_nothing() -> None:
    assert declared_parameters(notebook(new_code_cell("epochs = 10"))) == {}


def test_a_parameters_cell_that_is_not_python_is_reported() -> None:
    with pytest.raises(ParametersCellError, match="line 1"):
        declared_parameters(notebook(parameters_cell("epochs = = 10")))


def test_check_parameters_names_unknown_parameters_and_lists_the_real_ones() -> None:
    declared = declared_parameters(notebook(parameters_cell("alpha = 1\nbeta = 2\n")))

    assert check_parameters(declared, {"alpha": 3}) == []
    assert check_parameters(declared, {"lr": 0.1}) == [
        "`lr` is not a parameter of this notebook; its parameters are: alpha, beta"
    ]
    assert check_parameters(declared, {"alpah": 1}) == [
        "`alpah` is not a parameter of this notebook; its parameters are: alpha, beta (did you mean `alpha`?)"
    ]
    assert "declares none" in check_parameters({}, {"lr": 0.1})[0]


def test_check_parameters_explains_a_wrong_type() -> None:
    declared = declared_parameters(notebook(parameters_cell()))

    assert check_parameters(declared, {"epochs": "ten"}) == [
        '`epochs` must be int (the parameters cell sets 10), got str "ten"'
    ]
    assert check_parameters(declared, {"epochs": True}) == [
        "`epochs` must be int (the parameters cell sets 10), got bool true"
    ]
    assert check_parameters(declared, {"verbose": 1}) == [
        "`verbose` must be bool (the parameters cell sets False), got int 1"
    ]
    assert check_parameters(declared, {"layers": {"a": 1}, "options": [1]}) == [
        '`layers` must be list (the parameters cell sets [64, 32]), got dict {"a": 1}',
        '`options` must be dict (the parameters cell sets {"dropout": 0.1}), got list [1]',
    ]
    assert check_parameters(declared, {"name": None}) == [
        '`name` must be str (the parameters cell sets "baseline"), got null'
    ]


def test_check_parameters_accepts_what_the_rules_allow() -> None:
    declared = declared_parameters(notebook(parameters_cell()))
    accepted = {
        "epochs": 3,
        "lr": 0.01,
        "name": "x",
        "verbose": True,
        "seed": [1, "anything"],  # default None: anything goes
        "layers": [],
        "options": {},
        "steps": "computed, so unchecked",
    }
    assert check_parameters(declared, accepted) == []
    assert check_parameters(declared, {"lr": 2}) == []  # an int is a fine float


def test_inject_parameters_places_a_tagged_cell_after_the_parameters_cell_and_records_metadata() -> None:
    original = notebook(new_code_cell("import math"), parameters_cell("epochs = 10\n"), new_code_cell("print(epochs)"))

    injected = inject_parameters(original, {"epochs": 3, "flag": True, "nothing": None, "nested": {"a": [1.5, False]}})

    assert len(original.cells) == 3, "the input notebook is not modified"
    assert [c.metadata.get("tags", []) for c in injected.cells] == [[], ["parameters"], ["injected-parameters"], []]
    assert injected.cells[2].source == (
        "# Parameters injected by Runlab\nepochs = 3\nflag = True\nnothing = None\nnested = {'a': [1.5, False]}"
    )
    expected = {"epochs": 3, "flag": True, "nothing": None, "nested": {"a": [1.5, False]}}
    assert injected.metadata["runlab"]["parameters"] == expected
    assert injected.metadata["papermill"]["parameters"] == expected
    nbformat.validate(injected)

    # Injecting again replaces the earlier injected cell instead of adding a second one.
    again = inject_parameters(injected, {"epochs": 5})
    tagged = [c for c in again.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].source.endswith("epochs = 5")
    assert again.cells.index(tagged[0]) == 2


def test_inject_parameters_without_a_parameters_cell_goes_first_and_keeps_old_notebooks_valid() -> None:
    old = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1", "outputs": [], "execution_count": None}],
    }

    injected = inject_parameters(old, {"x": 2})

    assert injected.cells[0].metadata.tags == ["injected-parameters"]
    assert "id" not in injected.cells[0], "nbformat 4.4 cells carry no id"
    nbformat.validate(injected)


def test_inject_parameters_with_nothing_supplied_adds_no_cell() -> None:
    injected = inject_parameters(notebook(parameters_cell("x = 1")), {})
    assert len(injected.cells) == 1
    assert injected.metadata["runlab"]["parameters"] == {}


@pytest.mark.parametrize("name", ["x; import os", "1x", "class", ""])
def test_inject_parameters_refuses_names_that_would_be_code(name: str) -> None:
    with pytest.raises(ValueError, match="not a Python identifier"):
        inject_parameters(notebook(parameters_cell("x = 1")), {name: 1})


def test_the_kernel_runs_with_the_injected_values(tmp_path: Path) -> None:
    nb = notebook(
        parameters_cell('epochs = 10\nname = "baseline"\nseed = None\nratio = 0.5\n'),
        new_code_cell(
            "import json\nprint(json.dumps({'epochs': epochs, 'name': name, 'seed': seed, 'ratio': ratio, 'big': big}))"
        ),
    )
    supplied = {"epochs": 3, "name": 'it\'s "quoted"\n', "seed": [1, True, None], "ratio": float("inf"), "big": 2**70}
    assert check_parameters(declared_parameters(nb), {k: v for k, v in supplied.items() if k != "big"}) == []

    result = execute_notebook(inject_parameters(nb, supplied), work_dir=tmp_path)

    assert result.status == "finished", result.error
    printed = result.notebook.cells[2].outputs[0]["text"]
    assert json.loads(printed) == {
        "epochs": 3,
        "name": 'it\'s "quoted"\n',
        "seed": [1, True, None],
        "ratio": float("inf"),
        "big": 2**70,
    }
