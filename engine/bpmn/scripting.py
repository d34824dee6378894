"""What a diagram's scripts and expressions may do: compute with the case's data and call the functions we
inject, within limits of time and size; nothing else.

A procedure is written by process owners, not by us, and must never reach the server. Scripts and expressions
are compiled by RestrictedPython under a policy of ours (`DiagramPolicy`). It refuses, when a procedure is
published, what a diagram never needs: imports, defining functions or classes, `while`, `try`, `with`,
`match`, names and attributes starting with an underscore, the builtins that reach the interpreter. It
rewrites every attribute, item, iteration, operator and f-string into a call to a guard of `Evaluation`, which
at run time:

- allows only a fixed list of methods of text, lists, tuples and dictionaries (no attribute of anything else:
  functions, generators, frames, exceptions and types have none a diagram can read);
- counts the items every loop and comprehension takes, and stops the evaluation past its time;
- bounds, before it is made, every text, list and number an operator, method or format would make (string
  repetition, repeated squaring, format widths), and the total an evaluation makes.

A refusal is an `UnsafeScript`; an evaluation stopped at a limit is a `ScriptLimit`. Either fails the step
that ran it, and nothing of that step is kept.
"""

from __future__ import annotations

import ast
import operator
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import RestrictingNodeTransformer

FILENAME = "<diagram>"


class UnsafeScript(ValueError):
    """A script or expression uses something a diagram may not."""


class ScriptLimit(UnsafeScript):
    """A script or expression ran past the time, the iterations or the sizes a diagram is allowed."""


class OutOfMemory(ScriptLimit):
    """The process ran out of the memory it may use while a script ran."""


@dataclass(frozen=True)
class Limits:
    """What one evaluation of a script or expression may use. A diagram's scripts take microseconds; these are
    thousands of times that, and far below what would trouble the server."""

    seconds: float = 0.5  # CPU time of this thread
    iterations: int = 100_000  # items taken by all the loops and comprehensions of one evaluation
    length: int = 1_000_000  # characters of one text, items of one list, tuple, dictionary or set
    made: int = 5_000_000  # characters and items made in all by one evaluation
    int_bits: int = 4_096  # the size of a whole number (about 1,200 digits)
    width: int = 1_000  # a width or precision in a format specification
    source: int = 20_000  # characters of one script or expression


LIMITS = Limits()

# Builtins that reach the interpreter's internals, load code or touch files. None is among the builtins a
# diagram gets; naming them is refused at publish so the process owner hears why.
FORBIDDEN_NAMES = frozenset(
    "eval exec compile open globals locals vars getattr setattr delattr hasattr dir input breakpoint help "
    "memoryview type object super classmethod staticmethod property exit quit id iter next aiter anext "
    "callable format issubclass bytearray frozenset slice copyright credits license print".split()
)
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro"})

_TEXT_METHODS = frozenset(
    "capitalize casefold count endswith find index isalnum isalpha isdecimal isdigit islower isnumeric isspace "
    "istitle isupper lower lstrip partition removeprefix removesuffix rfind rindex rpartition rsplit rstrip split "
    "splitlines startswith strip swapcase title upper join replace center ljust rjust zfill".split()
)
_LIST_METHODS = frozenset("append clear copy count extend index insert pop remove reverse sort".split())
_DICT_METHODS = frozenset("clear copy get items keys pop setdefault update values".split())
_TUPLE_METHODS = frozenset({"count", "index"})
_NUMBER_METHODS = frozenset({"bit_length", "is_integer"})
METHODS: dict[type, frozenset[str]] = {
    str: _TEXT_METHODS, list: _LIST_METHODS, dict: _DICT_METHODS, tuple: _TUPLE_METHODS, int: _NUMBER_METHODS,
    float: _NUMBER_METHODS,
}
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)

_NOT_IN_A_DIAGRAM = {
    ast.FunctionDef: "defining functions is not allowed in a diagram",
    ast.AsyncFunctionDef: "defining functions is not allowed in a diagram",
    ast.Lambda: "defining functions (lambda) is not allowed in a diagram",
    ast.ClassDef: "defining classes is not allowed in a diagram",
    ast.While: "while loops are not allowed in a diagram (use for ... in ...)",
    ast.Try: "try/except is not allowed in a diagram",
    ast.With: "with is not allowed in a diagram",
    ast.Raise: "raise is not allowed in a diagram",
    ast.Assert: "assert is not allowed in a diagram",
    ast.Global: "global and nonlocal are not allowed in a diagram",
    ast.Nonlocal: "global and nonlocal are not allowed in a diagram",
    ast.Yield: "yield is not allowed in a diagram",
    ast.YieldFrom: "yield is not allowed in a diagram",
    ast.Await: "await is not allowed in a diagram",
    ast.NamedExpr: "assignment expressions (:=) are not allowed in a diagram",
    ast.Import: "imports are not allowed in a diagram",
    ast.ImportFrom: "imports are not allowed in a diagram",
}
_OPERATORS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.MatMult: "@",
}
_FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "<<": operator.lshift, ">>": operator.rshift, "|": operator.or_,
    "^": operator.xor, "&": operator.and_, "@": operator.matmul,
}
_CONVERSIONS = {-1: None, 115: "s", 114: "r", 97: "a"}


class DiagramPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, narrowed to what a diagram needs, with operators and f-strings guarded too."""

    def error(self, node: ast.AST, info: str) -> None:
        self.errors.append(f"{info} (line {getattr(node, 'lineno', '?')})")

    def _refuse(self, node: ast.AST) -> ast.AST:
        self.error(node, _NOT_IN_A_DIAGRAM[type(node)])
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = _refuse
    visit_While = visit_Try = visit_With = visit_Raise = visit_Assert = _refuse
    visit_Global = visit_Nonlocal = visit_Yield = visit_YieldFrom = visit_Await = visit_NamedExpr = _refuse
    visit_Import = visit_ImportFrom = _refuse

    def not_allowed(self, node: ast.AST) -> None:
        # Whatever RestrictedPython does not know (match statements, say) is not for a diagram either.
        self.error(node, f"{node.__class__.__name__} is not allowed in a diagram")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in FORBIDDEN_NAMES:
            self.error(node, f"{node.id!r} is not allowed in a diagram")
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if node.attr in FORBIDDEN_ATTRIBUTES:
            self.error(node, f"attribute {node.attr!r} is not allowed in a diagram")
        return super().visit_Attribute(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        return _call("_binop_", [ast.Constant(_OPERATORS[type(node.op)]), node.left, node.right], node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                value = self.node_contents_visit(value)
                spec = value.format_spec if value.format_spec is not None else ast.Constant("")
                parts.append(_call("_format_", [value.value, ast.Constant(_CONVERSIONS.get(value.conversion)),
                                                spec], value))
            else:
                parts.append(self.visit(value))
        return _call("_fstring_", parts, node)


def _call(guard: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    """A call of one of the guards, where `like` was in the source."""
    return ast.fix_missing_locations(ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), args, []), like))


@lru_cache(maxsize=4096)
def compile_script(source: str, mode: str) -> CodeType:
    """The script or expression compiled under the diagram policy, or `UnsafeScript` saying why not."""
    if len(source) > LIMITS.source:
        raise UnsafeScript(f"a script may be at most {LIMITS.source:,} characters long")
    try:
        ast.parse(source, mode=mode)
    except SyntaxError as exc:
        raise UnsafeScript(f"not valid Python: {exc.msg} (line {exc.lineno})") from None
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source, FILENAME, policy=DiagramPolicy)
    if result.errors:
        raise UnsafeScript("; ".join(dict.fromkeys(result.errors)))
    return result.code


class _NotYetKnown(Exception):
    """A dry run reached a name only a case can give (its data): what follows cannot be known at publish."""


class _PublishScope(dict):
    """The locals of a dry run: a name the script has not set and no builtin or function supplies is the case's
    data, unknown at publish."""

    def __init__(self, known: dict[str, Any]) -> None:
        super().__init__()
        self.known = known

    def __missing__(self, name: str) -> Any:
        if name in self.known or name in self.known["__builtins__"]:
            raise KeyError(name)  # looked up next among the globals and builtins, as Python would
        raise _NotYetKnown(name)


def check(source: str, mode: str = "exec", functions: dict[str, Any] | None = None) -> None:
    """Refuse, when a procedure is published, a script or expression that leaves the sandbox, or that runs past
    a limit before it needs anything of a case (a bomb written with constants: `"a" * 10**9`, squaring in a
    loop of fixed length, a huge format width). The dry run stops harmlessly at the first name of the case's
    data; `functions` are those a diagram may call (their effects are discarded)."""
    code = compile_script(source, mode)
    known = {**(functions or {}), **evaluation().guards}
    try:
        _execute(code, known, _PublishScope(known), mode, LIMITS)
    except ScriptLimit:
        raise
    except UnsafeScript:
        raise
    except Exception:  # noqa: BLE001  (the case's data would decide: known only when a case runs)
        return


_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d+))?[bcdeEfFgGnosxX%]?",
                          re.DOTALL)


class Evaluation:
    """The guards evaluations run with, one set per thread: what a script may reach, and what the evaluation
    running now has used of its limits (reset at each `start`)."""

    def __init__(self) -> None:
        self.start(LIMITS)
        self.guards = {
            "_getattr_": self.getattr, "_getitem_": self.getitem, "_getiter_": self.getiter, "_write_": self.write,
            "_binop_": self.binop, "_inplacevar_": self.inplacevar, "_format_": self.format,
            "_fstring_": self.fstring, "_apply_": _apply,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
            "__builtins__": self._builtins(),
        }

    def start(self, limits: Limits) -> None:
        self.limits = limits
        self.iterations = 0
        self.made = 0
        self.deadline = time.thread_time() + limits.seconds

    # -- time and size ------------------------------------------------------------------------------------

    def check_time(self) -> None:
        if time.thread_time() > self.deadline:
            raise ScriptLimit(f"the script ran longer than {self.limits.seconds:g} s")

    def trace(self, frame, event, arg):
        # Called for every new frame of this thread while an evaluation runs; only the diagram's own code (its
        # module and comprehensions) is traced line by line.
        if frame.f_code.co_filename != FILENAME:
            return None
        self.check_time()
        return self._trace_line

    def _trace_line(self, frame, event, arg):
        if event == "line":
            self.check_time()
        return self._trace_line

    def allow_length(self, length: int, what: str = "a value") -> None:
        if length > self.limits.length:
            raise ScriptLimit(f"the script would make {what} of {length:,} characters or items; the most is "
                              f"{self.limits.length:,}")

    def allow_bits(self, bits: int) -> None:
        if bits > self.limits.int_bits:
            raise ScriptLimit(f"the script would make a number larger than {self.limits.int_bits:,} bits")

    def charge(self, value: Any) -> Any:
        """Count what an operation made against the evaluation's limits; returns it."""
        if isinstance(value, _SIZED):
            self.allow_length(len(value))
            self.made += len(value)
            if self.made > self.limits.made:
                raise ScriptLimit(f"the script made more than {self.limits.made:,} characters and items in all")
        elif isinstance(value, int):
            self.allow_bits(value.bit_length())
        return value

    def counted(self, values: Iterable) -> Iterator:
        limit = self.limits.iterations
        for item in values:
            self.iterations += 1
            if self.iterations > limit:
                raise ScriptLimit(f"the script's loops took more than {limit:,} items")
            if not self.iterations & 255:
                self.check_time()
            yield item

    def allow_tree(self, value: Any) -> None:
        """A list or dictionary shown as text is as long as everything in it, however often it is nested."""
        budget, stack = self.limits.length, [value]
        while stack:
            item = stack.pop()
            budget -= len(item) if isinstance(item, (str, bytes)) else 1
            if budget < 0:
                raise ScriptLimit(f"the script would make a text longer than {self.limits.length:,} characters")
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, (list, tuple, set, frozenset)):
                stack.extend(item)

    # -- the guards RestrictedPython's compiled code calls ------------------------------------------------

    def getattr(self, obj: Any, name: str) -> Any:
        if name not in METHODS.get(type(obj), ()):
            owner = obj.__name__ if callable(obj) and hasattr(obj, "__name__") else type(obj).__name__
            raise UnsafeScript(f"{owner}.{name} is not available in a diagram")
        guarded = _GUARDED_METHODS.get((type(obj), name))
        if guarded is not None:
            return partial(guarded, self, obj)
        return partial(_charged, self, getattr(obj, name))

    def getitem(self, obj: Any, key: Any) -> Any:
        if not isinstance(obj, (dict, list, tuple, str, range)):
            raise UnsafeScript(f"a {type(obj).__name__} cannot be indexed in a diagram")
        value = obj[key]
        return self.charge(value) if isinstance(key, slice) else value

    def getiter(self, obj: Iterable) -> Iterator:
        return self.counted(obj)

    def write(self, obj: Any) -> Any:
        if isinstance(obj, (dict, list)):
            return obj
        raise UnsafeScript(f"a {type(obj).__name__} cannot be changed in a diagram")

    def binop(self, op: str, left: Any, right: Any) -> Any:
        if op == "%" and isinstance(left, (str, bytes)):
            raise UnsafeScript("%-formatting of text is not allowed in a diagram; use an f-string")
        if op == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int):
                    self.allow_length(len(seq) * max(times, 0), "a repeated value")
            if isinstance(left, int) and isinstance(right, int):
                self.allow_bits(left.bit_length() + right.bit_length())
        elif op == "**" and isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            self.allow_bits(right * (left.bit_length() - 1) + 1)
        elif op == "<<" and isinstance(left, int) and isinstance(right, int) and left:
            self.allow_bits(left.bit_length() + max(right, 0))
        elif op in ("+", "|") and isinstance(left, _SIZED) and isinstance(right, _SIZED):
            self.allow_length(len(left) + len(right))
        return self.charge(_FUNCTIONS[op](left, right))

    def inplacevar(self, op: str, left: Any, right: Any) -> Any:
        return self.binop(op.removesuffix("="), left, right)

    def format(self, value: Any, conversion: str | None, spec: str) -> str:
        if conversion is not None:
            value = self.text(value, conversion)
        match = _FORMAT_SPEC.fullmatch(spec)
        if match is None:
            raise UnsafeScript(f"the format specification {spec[:40]!r} is not understood")
        for part in ("width", "precision"):
            if match[part] and int(match[part]) > self.limits.width:
                raise ScriptLimit(f"a format {part} may be at most {self.limits.width:,}")
        if not spec:
            return self.text(value)
        if not isinstance(value, (str, int, float)):
            raise UnsafeScript(f"a {type(value).__name__} cannot be formatted with {spec[:40]!r}")
        return self.charge(format(value, spec))

    def fstring(self, *parts: str) -> str:
        self.allow_length(sum(len(part) for part in parts), "a text")
        return self.charge("".join(parts))

    def text(self, value: Any, conversion: str = "s") -> str:
        if isinstance(value, _SIZED):
            self.allow_tree(value)
        return self.charge(ascii(value) if conversion == "a" else repr(value) if conversion == "r" else str(value))

    # -- the builtins a diagram gets --------------------------------------------------------------------------

    def _builtins(self) -> dict[str, Any]:
        def named(name: str, function: Callable) -> Callable:
            function.__name__ = function.__qualname__ = name
            return function

        def range_(*args: int) -> range:
            numbers = range(*args)
            self.allow_length(len(numbers), "a range")
            return numbers

        def made(kind: type) -> Callable:
            # Every iterator a script can make draws on counted loops or bounded values, so only what the
            # builtin makes needs charging.
            return named(kind.__name__, lambda *args, **kwargs: self.charge(kind(*args, **kwargs)))

        def sum_(values: Iterable, start: int | float = 0) -> int | float:
            if not isinstance(start, (int, float)):
                raise UnsafeScript("sum adds numbers only in a diagram")
            return self.charge(sum(values, start))

        types = {"str": str, "int": int, "list": list, "dict": dict, "tuple": tuple, "set": set}

        def is_instance(value: Any, kinds: Any) -> bool:
            if isinstance(kinds, tuple):
                return any(is_instance(value, kind) for kind in kinds)
            return isinstance(value, types.get(kinds.__name__, kinds) if callable(kinds) else kinds)

        return {
            "abs": abs, "all": all, "any": any, "bool": bool, "enumerate": enumerate, "filter": filter,
            "float": float, "len": len, "map": map, "max": max, "min": min, "reversed": reversed, "round": round,
            "zip": zip, "isinstance": is_instance, "range": named("range", range_), "sum": named("sum", sum_),
            "int": made(int), "list": made(list), "tuple": made(tuple), "dict": made(dict), "set": made(set),
            "sorted": made(sorted), "str": named("str", lambda value="": self.text(value)),
            "repr": named("repr", lambda value: self.text(value, "r")),
            "None": None, "True": True, "False": False,
        }


def _apply(function: Callable, *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


def _charged(evaluation: Evaluation, method: Callable, *args: Any, **kwargs: Any) -> Any:
    return evaluation.charge(method(*args, **kwargs))


def _join(self: Evaluation, text: str, parts: Iterable) -> str:
    parts = list(self.counted(parts))
    self.allow_length(len(text) * max(len(parts) - 1, 0) + sum(len(p) for p in parts if isinstance(p, str)))
    return self.charge(text.join(parts))


def _replace(self: Evaluation, text: str, old: str, new: str, count: int = -1) -> str:
    found = (len(text) + 1 if old == "" else text.count(old)) if isinstance(old, str) else 0
    if count >= 0:
        found = min(found, count)
    self.allow_length(len(text) + found * (len(new) - len(old)) if isinstance(new, str) else len(text))
    return self.charge(text.replace(old, new, count))


def _padded(name: str) -> Callable:
    def pad(self: Evaluation, text: str, width: int, *args: Any) -> str:
        self.allow_length(width if isinstance(width, int) else 0)
        return self.charge(getattr(text, name)(width, *args))
    return pad


def _extend(self: Evaluation, items: list, more: Iterable) -> None:
    more = list(self.counted(more))
    self.allow_length(len(items) + len(more))
    self.charge(more)
    items.extend(more)


def _grow(name: str) -> Callable:
    def grow(self: Evaluation, container: Any, *args: Any) -> Any:
        self.allow_length(len(container) + 1)
        return getattr(container, name)(*args)
    return grow


def _update(self: Evaluation, mapping: dict, *args: Any, **kwargs: Any) -> None:
    more = dict(*args, **kwargs)
    self.allow_length(len(mapping) + len(more))
    mapping.update(more)


_GUARDED_METHODS: dict[tuple[type, str], Callable] = {
    (str, "join"): _join, (str, "replace"): _replace, (str, "center"): _padded("center"),
    (str, "ljust"): _padded("ljust"), (str, "rjust"): _padded("rjust"), (str, "zfill"): _padded("zfill"),
    (list, "extend"): _extend, (list, "append"): _grow("append"), (list, "insert"): _grow("insert"),
    (dict, "setdefault"): _grow("setdefault"), (dict, "update"): _update,
}


_local = threading.local()


def evaluation() -> Evaluation:
    """This thread's guards (made once per thread)."""
    found = getattr(_local, "evaluation", None)
    if found is None:
        found = _local.evaluation = Evaluation()
    return found


def run(code: CodeType, scope: dict[str, Any], mode: str, limits: Limits = LIMITS) -> Any:
    """Evaluate (`mode` "eval") or execute the compiled code in `scope` with this thread's guards, within
    `limits`. Returns the expression's value, or None for a script (whose variables are left in `scope`)."""
    scope.update(evaluation().guards)
    return _execute(code, scope, None, mode, limits)


def _execute(code: CodeType, scope: dict[str, Any], local: dict | None, mode: str, limits: Limits) -> Any:
    guards = evaluation()
    guards.start(limits)
    previous = sys.gettrace()
    sys.settrace(guards.trace)
    try:
        if mode == "eval":
            return eval(code, scope, local)
        exec(code, scope, local)
        return None
    except RecursionError:
        raise ScriptLimit("the script nested too deeply") from None
    except MemoryError:
        raise OutOfMemory("the script ran out of memory") from None
    finally:
        sys.settrace(previous)


def check_kept(data: dict[str, Any]) -> None:
    """What a script leaves in the case's data is kept with the case: as large as a value may be, at most."""
    evaluation().allow_tree(data)


GUARD_NAMES = frozenset(Evaluation().guards)
SAFE_BUILTINS = frozenset(Evaluation().guards["__builtins__"])
