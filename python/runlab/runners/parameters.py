"""Notebook parameters, papermill-style.

A notebook declares its parameters in the first code cell tagged ``parameters``: plain assignments
such as ``epochs = 10  # passes over the data``. A job supplies new values as JSON; they are checked
against those declarations and written into a new cell tagged ``injected-parameters`` placed right
after the ``parameters`` cell, so the notebook's own defaults run first and the job's values
override them. This is papermill's layout, so notebooks written for papermill work unchanged.
"""

from __future__ import annotations

import ast
import copy
import difflib
import io
import json
import keyword
import math
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nbformat
from nbformat import NotebookNode

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
INJECTED_HEADER = "# Parameters injected by Runlab"

# The types a parameter can be checked against: the Python types JSON values arrive as.
_JSON_TYPES: dict[type, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    type(None): "NoneType",
    list: "list",
    dict: "dict",
}
# Annotations a parameter may carry that name one of those types (`epochs: int = 10`).
_ANNOTATION_TYPES = {"int", "float", "str", "bool", "list", "dict"}
# IPython syntax that is not Python (`%matplotlib inline`, `!pip install x`): blanked before parsing.
_IPYTHON_LINE = re.compile(r"^\s*[%!]")


class ParametersCellError(ValueError):
    """The ``parameters`` cell cannot be read as Python, so its parameters are unknown."""


@dataclass(frozen=True)
class Declared:
    """One parameter as the notebook's ``parameters`` cell declares it.

    ``type_name`` is ``"int"``, ``"float"``, ``"str"``, ``"bool"``, ``"NoneType"``, ``"list"`` or
    ``"dict"``, or ``None`` when the default is not a literal (``lr = 1 / 3``) and so not checked.
    ``default`` is the default as a JSON-compatible value (``None`` when it is not a literal);
    ``expression`` is the right-hand side as written, for showing it to a person.
    """

    name: str
    type_name: str | None
    default: Any
    expression: str
    help: str | None = None


def _cells(nb: Mapping[str, Any]) -> list[Any]:
    return list(nb.get("cells", []))


def _source(cell: Mapping[str, Any]) -> str:
    # A notebook read as plain JSON may keep the source as a list of lines.
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell: Mapping[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def find_tagged_cell(nb: Mapping[str, Any], tag: str) -> int | None:
    """Index of the first code cell carrying ``tag``, or ``None``."""
    for index, cell in enumerate(_cells(nb)):
        if cell.get("cell_type") == "code" and tag in _tags(cell):
            return index
    return None


def _trailing_comments(source: str) -> dict[int, str]:
    """Line number → text of a ``# comment`` that follows code on that line."""
    comments: dict[int, str] = {}
    code_lines: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                line = token.start[0]
                if line in code_lines:
                    comments[line] = token.string.lstrip("#").strip()
            elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                code_lines.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass  # the source already parsed with `ast`; a tokenizer quirk only costs the help texts
    return comments


def _literal(node: ast.expr) -> tuple[str | None, Any]:
    """(type name, value) of a JSON-compatible literal, or (None, None) for anything else."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, None
    type_name = _JSON_TYPES.get(type(value))
    if type_name is None:
        return None, None  # tuples, sets, bytes, complex: literals JSON cannot carry
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return None, None  # e.g. a list holding a tuple
    return type_name, value


def declared_parameters(nb: Mapping[str, Any]) -> dict[str, Declared]:
    """The parameters declared by the first code cell tagged ``parameters`` (empty if none).

    Top-level ``name = value`` and ``name: T = value`` assignments count; a later assignment to the
    same name wins, as it does when the cell runs. A simple annotation (``epochs: float = 1``)
    overrides the type the literal would suggest.
    """
    index = find_tagged_cell(nb, PARAMETERS_TAG)
    if index is None:
        return {}
    raw = _source(_cells(nb)[index])
    # Blank out IPython-only lines but keep line numbers, so trailing comments still line up.
    source = "\n".join("" if _IPYTHON_LINE.match(line) else line for line in raw.splitlines())
    try:
        module = ast.parse(source)
    except SyntaxError as error:
        raise ParametersCellError(
            f"the cell tagged `parameters` is not valid Python (line {error.lineno}: {error.msg})"
        ) from None
    comments = _trailing_comments(source)

    declared: dict[str, Declared] = {}
    for statement in module.body:
        if isinstance(statement, ast.Assign):
            names = [target.id for target in statement.targets if isinstance(target, ast.Name)]
            if len(names) != len(statement.targets):
                continue  # unpacking or attribute assignment: not a parameter declaration
            value_node, annotation = statement.value, None
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            if not isinstance(statement.target, ast.Name):
                continue
            names = [statement.target.id]
            value_node, annotation = statement.value, ast.unparse(statement.annotation)
        else:
            continue
        type_name, default = _literal(value_node)
        if annotation in _ANNOTATION_TYPES:
            type_name = annotation
        end_line = statement.end_lineno or statement.lineno
        help_text = comments.get(end_line) or comments.get(statement.lineno)
        expression = ast.get_source_segment(source, value_node) or ast.unparse(value_node)
        for name in names:
            declared[name] = Declared(name, type_name, default, expression, help_text)
    return declared


def _accepts(type_name: str | None, value: Any) -> bool:
    if type_name in (None, "NoneType"):
        return True
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = {"str": str, "bool": bool, "list": list, "dict": dict}[type_name]
    return isinstance(value, expected)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    text = json.dumps(value, default=repr)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{_JSON_TYPES.get(type(value), type(value).__name__)} {text}"


def check_parameters(declared: Mapping[str, Declared], supplied: Mapping[str, Any]) -> list[str]:
    """Messages for each supplied parameter the notebook does not declare or whose type is wrong.

    An empty list means the values can be injected. Types follow JSON: an ``int`` parameter takes
    whole numbers but not booleans, a ``float`` one takes any number; a parameter whose default is
    ``None`` or not a literal takes anything.
    """
    errors: list[str] = []
    for name, value in supplied.items():
        parameter = declared.get(name)
        if parameter is None:
            if not declared:
                errors.append(
                    f"`{name}` is not a parameter of this notebook; it declares none "
                    "(no code cell is tagged `parameters`)"
                )
                continue
            message = f"`{name}` is not a parameter of this notebook; its parameters are: {', '.join(declared)}"
            close = difflib.get_close_matches(name, list(declared), n=1)
            if close:
                message += f" (did you mean `{close[0]}`?)"
            errors.append(message)
        elif not _accepts(parameter.type_name, value):
            errors.append(
                f"`{name}` must be {parameter.type_name} (the parameters cell sets {parameter.expression}), "
                f"got {_describe(value)}"
            )
    return errors


def python_literal(value: Any) -> str:
    """Python source that evaluates to the JSON value ``value`` (``true`` → ``True``, ``null`` → ``None``)."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        # `repr` of an infinity or NaN (`inf`, `nan`) is not valid Python source.
        return repr(value) if math.isfinite(value) else f'float("{value}")'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"parameter values must be JSON values, got {type(value).__name__}")


def _check_name(name: str) -> None:
    # The name is written into code the kernel runs: anything but an identifier would be injected code.
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{name!r} cannot be a parameter name: it is not a Python identifier")


def inject_parameters(nb: Mapping[str, Any], supplied: Mapping[str, Any]) -> NotebookNode:
    """A copy of ``nb`` with ``supplied`` assigned in a cell tagged ``injected-parameters``.

    Any earlier injected cell is removed first (a notebook run before keeps its old one). The new
    cell goes right after the ``parameters`` cell, or first when there is none; with no values
    supplied none is added, so the notebook runs as pinned. The values are also recorded in the
    notebook's metadata, under ``runlab.parameters`` and (for papermill's tools) ``papermill.parameters``.
    """
    for name in supplied:
        _check_name(name)
    result = nbformat.from_dict(copy.deepcopy(dict(nb)))
    result.cells = [cell for cell in result.cells if INJECTED_TAG not in _tags(cell)]

    if supplied:
        lines = [INJECTED_HEADER, *(f"{name} = {python_literal(value)}" for name, value in supplied.items())]
        cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
        if (result.get("nbformat", 4), result.get("nbformat_minor", 0)) < (4, 5):
            del cell["id"]  # cell ids arrived in nbformat 4.5; older notebooks must not carry one
        parameters_index = find_tagged_cell(result, PARAMETERS_TAG)
        position = 0 if parameters_index is None else parameters_index + 1
        result.cells.insert(position, cell)

    values = json.loads(json.dumps(dict(supplied)))  # a plain, JSON-safe copy for the metadata
    result.metadata.setdefault("runlab", {})["parameters"] = values
    result.metadata.setdefault("papermill", {})["parameters"] = copy.deepcopy(values)
    return result
