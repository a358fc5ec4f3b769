"""Safe evaluation of derived-feature expressions such as ``"Amount / Price"``.

Only numbers, column names, unary +/- and the binary operators + - * / are
allowed (checked on the AST). Evaluation is vectorised over numpy arrays;
a division by zero, a missing operand or any non-finite result gives NaN.
Needs only numpy (the fast scorer uses it).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from typing import cast

import numpy as np

_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_UNARY = (ast.UAdd, ast.USub)


class ExpressionError(ValueError):
    """The expression uses something outside the whitelist."""


def parse(expr: str) -> ast.Expression:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {expr!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Expression | ast.Name | ast.Load | ast.operator | ast.unaryop):
            if isinstance(node, ast.operator) and not isinstance(node, _BINOPS):
                raise ExpressionError(f"operator {type(node).__name__} not allowed in {expr!r}")
            if isinstance(node, ast.unaryop) and not isinstance(node, _UNARY):
                raise ExpressionError(f"operator {type(node).__name__} not allowed in {expr!r}")
            continue
        if isinstance(node, ast.BinOp | ast.UnaryOp):
            continue
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            continue
        raise ExpressionError(f"{type(node).__name__} not allowed in {expr!r}")
    return tree


def names(expr: str) -> list[str]:
    """Column names used by ``expr``, in order of first appearance."""
    out: list[str] = []
    for node in ast.walk(parse(expr)):
        if isinstance(node, ast.Name) and node.id not in out:
            out.append(node.id)
    return out


def evaluate(expr: str, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Evaluate ``expr`` over float arrays (NaN = missing); result float64 with NaN."""
    tree = parse(expr)

    def ev(node: ast.AST) -> np.ndarray | np.float64:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return np.float64(cast(float, node.value))  # parse() admits int and float constants only
        if isinstance(node, ast.Name):
            if node.id not in columns:
                raise ExpressionError(f"unknown column {node.id!r} in {expr!r}")
            return np.asarray(columns[node.id], dtype=np.float64)
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            op = node.op
            if isinstance(op, ast.Add):
                return a + b
            if isinstance(op, ast.Sub):
                return a - b
            if isinstance(op, ast.Mult):
                return a * b
            return np.divide(a, b)
        raise ExpressionError(f"{type(node).__name__} not allowed")  # pragma: no cover

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.array(ev(tree), dtype=np.float64)
    out = np.atleast_1d(out)
    out[~np.isfinite(out)] = np.nan
    return out


def compile_scalar(expr: str):
    """Compile ``expr`` to ``f(values: dict[str, float]) -> float`` for one row (pure Python).

    Same semantics as :func:`evaluate`: NaN propagates, division by zero and any
    non-finite result give NaN. Used by the scorer's single-row path."""
    tree = parse(expr)

    def build(node: ast.AST):
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Constant):
            c = float(cast(float, node.value))  # parse() admits int and float constants only
            return lambda v: c
        if isinstance(node, ast.Name):
            name = node.id
            return lambda v: v[name]
        if isinstance(node, ast.UnaryOp):
            f = build(node.operand)
            if isinstance(node.op, ast.USub):
                return lambda v: -f(v)
            return f
        if isinstance(node, ast.BinOp):
            a, b = build(node.left), build(node.right)
            op = node.op
            if isinstance(op, ast.Add):
                return lambda v: a(v) + b(v)
            if isinstance(op, ast.Sub):
                return lambda v: a(v) - b(v)
            if isinstance(op, ast.Mult):
                return lambda v: a(v) * b(v)

            def div(v):
                d = b(v)
                return a(v) / d if d != 0.0 else math.nan

            return div
        raise ExpressionError(f"{type(node).__name__} not allowed")  # pragma: no cover

    body = build(tree)
    isfinite = math.isfinite

    def run(values) -> float:
        try:
            out = body(values)
        except KeyError as exc:
            raise ExpressionError(f"unknown column {exc.args[0]!r} in {expr!r}") from None
        except OverflowError:
            return math.nan
        return out if isfinite(out) else math.nan

    return run
