"""What a diagram's scripts and expressions may do: compute with data, call the functions we inject, no more.

A procedure is data written by process owners; it must never reach the server. Every script and expression is
checked before it runs (and when a procedure is published): no imports, no names or attributes that start with
an underscore (the way out to dunders and frames), none of the builtins that open files, load code or reach
objects' internals. It runs with a short list of harmless builtins instead of Python's own.
"""

from __future__ import annotations

import ast
import builtins

SAFE_BUILTIN_NAMES = (
    "abs all any bool dict enumerate filter float int isinstance len list map max min range reversed round "
    "set sorted str sum tuple zip None True False ValueError KeyError Exception"
).split()

SAFE_BUILTINS = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES if hasattr(builtins, name)}

FORBIDDEN_NAMES = frozenset(
    "eval exec compile open __import__ globals locals vars getattr setattr delattr dir input breakpoint help "
    "memoryview type object super classmethod staticmethod property exit quit".split()
)

MAX_NUMBER = 100_000

FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro", "gi_frame", "f_globals", "f_locals"})


class UnsafeScript(ValueError):
    """A script or expression uses something a diagram may not."""


def check(source: str, mode: str = "exec") -> ast.AST:
    """Parse and refuse anything outside the sandbox. Returns the tree so the caller need not parse twice."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise UnsafeScript(f"not valid Python: {exc.msg} (line {exc.lineno})") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise UnsafeScript("imports are not allowed in a diagram")
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            raise UnsafeScript("global and nonlocal are not allowed in a diagram")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise UnsafeScript(f"attribute {node.attr!r} is not allowed: names starting with '_' are private")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            # str.format can walk attributes ("{0.__class__}") where the checker cannot see them.
            raise UnsafeScript(f"attribute {node.attr!r} is not allowed in a diagram")
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise UnsafeScript(f"name {node.id!r} is not allowed: names starting with '_' are private")
            if node.id in FORBIDDEN_NAMES:
                raise UnsafeScript(f"{node.id!r} is not allowed in a diagram")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            raise UnsafeScript("defining functions or classes is not allowed in a diagram")
        if isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom)):
            raise UnsafeScript("await and yield are not allowed in a diagram")
        # A diagram runs inside the server: nothing that could tie it up for long or fill its memory.
        if isinstance(node, ast.While):
            raise UnsafeScript("while loops are not allowed in a diagram")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            raise UnsafeScript("'**' is not allowed in a diagram")
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
                node.value, bool) and abs(node.value) > MAX_NUMBER:
            raise UnsafeScript(f"numbers above {MAX_NUMBER:,} are not allowed in a diagram")
    return tree
