"""A diagram's scripts and expressions compute with the case's data and call the functions we inject; nothing
else. They are refused when a procedure is published and again before they run. A diagram's XML may not declare
a DOCTYPE or entities."""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import UTC, datetime
from xml.sax.saxutils import escape as xml_escape

import pytest

from engine.bpmn.checks import check_scripts
from engine.bpmn.context import StepContext
from engine.bpmn.parser import parse_procedure, parse_xml
from engine.bpmn.script_engine import SandboxEnvironment, StepScriptEngine
from engine.bpmn.scripting import FORBIDDEN_NAMES, SAFE_BUILTINS, Limits, ScriptLimit, UnsafeScript, check
from engine.calendar import WorkingCalendar
from engine.errors import InvalidProcedure
from engine.procedures.check import check_procedure
from engine.procedures.files import WORKFLOWS, ProcedureFiles, read_folder

START = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)

FORM = {
    "type": "object",
    "required": ["answer"],
    "properties": {"answer": {"type": "string", "minLength": 1}},
}
LANES = {"Receiver": {"role": "practitioner", "side": "receiving"}}


def diagram(script: str = "done = True", user_task_extra: str = "", condition: str | None = None) -> str:
    """One lane, one user task (form answer.json, stage 1), then one script task. `script` is written into the
    XML as given, so it must already be XML-escaped."""
    flow_3 = (f'<bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="end">'
              f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
              if condition else '<bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="end" />')
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="definitions_tiny" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="tiny" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_receiver" name="Receiver">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>answer</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>work</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="answer" name="Answer">
      <bpmn:extensionElements>
        <spiffworkflow:formJsonSchemaFilename>answer.json</spiffworkflow:formJsonSchemaFilename>
        <spiffworkflow:properties><spiffworkflow:property name="stage" value="1" /></spiffworkflow:properties>
      </bpmn:extensionElements>
      {user_task_extra}
    </bpmn:userTask>
    <bpmn:scriptTask id="work" name="Work"><bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="answer" />
    <bpmn:sequenceFlow id="f2" sourceRef="answer" targetRef="work" />
    {flow_3}
  </bpmn:process>
</bpmn:definitions>
"""


def files(bpmn_xml: str) -> ProcedureFiles:
    return ProcedureFiles(procedure="tiny", title="Tiny", process_id="tiny", bpmn_xml=bpmn_xml,
                          forms={"answer.json": FORM}, lanes=LANES)


# --- refused at publish: each way out of the sandbox --------------------------------------------------------------

ESCAPES = {
    # A class pattern reads attributes the interpreter looks up itself, past every guard.
    "match patterns": [
        ("match x:\n    case Exception(__traceback__=tb):\n        pass", "Match is not allowed"),
        ("match x:\n    case {'a': y}:\n        pass", "Match is not allowed"),
    ],
    "format strings": [
        ("x = '{0.__class__}'.format(y)", "attribute 'format' is not allowed"),
        ("x = '{0.__class__}'.format_map({'0': y})", "attribute 'format_map' is not allowed"),
        ("x = str.format('{0.__class__}', y)", "attribute 'format' is not allowed"),
        ("x = format(y, '')", "'format' is not allowed"),
        ("x = '%s %s' % (1, 2)", "%-formatting of text is not allowed"),
    ],
    "frames and tracebacks": [
        ("x = frame.f_globals", "\"f_globals\" is a restricted name"),
        ("x = tb.tb_frame", "\"tb_frame\" is a restricted name"),
        ("x = frame.f_back", "\"f_back\" is a restricted name"),
        ("try:\n    x = 1 / 0\nexcept Exception as e:\n    t = e", "try/except is not allowed"),
        ("raise ValueError('x')", "raise is not allowed"),
    ],
    "generators": [
        ("x = (i for i in []).gi_frame", "\"gi_frame\" is a restricted name"),
        ("x = (i for i in []).gi_code", "\"gi_code\" is a restricted name"),
        ("g = (i for i in [1])\nx = g.send(None)", "generator.send is not available in a diagram"),
        ("x = (yield 1)", "yield is not allowed"),
        ("def f():\n    yield 1", "defining functions is not allowed"),
    ],
    "dunders": [
        ("x = ().__class__.__bases__[0].__subclasses__()", "\"__class__\" is an invalid attribute name"),
        ("x = y.__dict__", "\"__dict__\" is an invalid attribute name"),
        ("x = __builtins__", "\"__builtins__\" is an invalid variable name"),
        ("x = __import__('os')", "\"__import__\" is an invalid variable name"),
        ("x = notify.__self__", "\"__self__\" is an invalid attribute name"),
        ("x = _getattr_", "\"_getattr_\" is an invalid variable name"),
        ("x = (1).real", "int.real is not available in a diagram"),
    ],
    "builtins": [
        ("x = open('/etc/passwd').read()", "'open' is not allowed"),
        ("x = eval('1 + 1')", "'eval' is not allowed"),
        ("exec('x = 1')", "'exec' is not allowed"),
        ("x = compile('1', 'f', 'eval')", "'compile' is not allowed"),
        ("x = getattr((), 'count')", "'getattr' is not allowed"),
        ("x = globals()", "'globals' is not allowed"),
        ("x = vars()", "'vars' is not allowed"),
        ("x = type(1)", "'type' is not allowed"),
        ("x = object", "'object' is not allowed"),
        ("x = breakpoint()", "'breakpoint' is not allowed"),
        ("x = str.join", "str.join is not available in a diagram"),
        ("import os", "imports are not allowed"),
        ("from os import system", "imports are not allowed"),
        ("x = sorted(y, key=lambda v: v)", "lambda"),
        ("class C:\n    pass", "defining classes is not allowed"),
        ("global x\nx = 1", "global and nonlocal are not allowed"),
        ("with y as z:\n    pass", "with is not allowed"),
    ],
    "CPU bombs": [
        ("while True:\n    pass", "while loops are not allowed"),
        ("for i in range(100000):\n    for j in range(100000):\n        pass", "loops took more than 100,000 items"),
        ("x = [i * j for i in range(1000) for j in range(1000)]", "loops took more than 100,000 items"),
        ("x = 10\nfor i in range(40):\n    x = x * x", "a number larger than 4,096 bits"),
        ("x = 9 ** 9 ** 9", "a number larger than 4,096 bits"),
    ],
    "memory bombs": [
        ("x = 'a' * 10**9", "a repeated value of 1,000,000,000"),
        ("x = [0] * 10**9", "a repeated value of 1,000,000,000"),
        ("x = f'{0:>999999999}'", "a format width may be at most 1,000"),
        ("x = f'{0:{9}{99999999}}'", "a format width may be at most 1,000"),
        ("x = 'x'.center(10**9)", "1,000,000,000 characters"),
        ("x = 'ab'.replace('', 'c' * 999999)", "characters or items"),
        ("x = list(range(10**9))", "a range of 1,000,000,000"),
        ("x = 1 << 10**7", "a number larger than 4,096 bits"),
        ("x = 'a' * 999999\nfor i in range(30):\n    x = x + x", "characters or items"),
        ("x = ['a' * 999999 for i in range(100)]", "characters and items in all"),
    ],
}
CASES = [(kind, source, message) for kind, cases in ESCAPES.items() for source, message in cases]


@pytest.mark.parametrize(("kind", "source", "message"), CASES, ids=[f"{k}: {s[:40]}" for k, s, _ in CASES])
def test_each_way_out_is_refused_when_a_procedure_is_published(kind, source, message):
    expected = re.escape(message)
    if message.startswith("loops took more than"):
        # On a machine busy with other work the trial run's time bound can stop a loop before its item count
        # does: either refusal holds the bomb.
        expected += "|the script ran longer than"
    with pytest.raises(UnsafeScript, match=expected):
        check(source, "exec")


@pytest.mark.parametrize("expression", [
    "__import__('os').system('id')",
    "().__class__",
    "open('/etc/passwd')",
    "lambda: 1",
    "'{0.__class__}'.format(1)",
    "'a' * 10**9",
    "[x for x in range(10**7)]",
])
def test_expressions_are_refused_too(expression):
    with pytest.raises(UnsafeScript):
        check(expression, "eval")


@pytest.mark.parametrize("source", [
    "total = 1 + 2 * 3 - 4 / 2",
    "label = f'{reference}: stage {stage + 1}'",
    "missed = missed_deadlines + [1]\nmissed.append(2)\nmissed.sort()\nlast = missed[-1]",
    "names = sorted(set(['b', 'a'])) + list(reversed([1, 2]))",
    "if decision == 'resolved':\n    outcome = 'resolved'\nelse:\n    outcome = None",
    "squares = [n * n for n in range(5) if n % 2 == 0]",
    "counts = {k: len(v) for k, v in groups.items()}",
    "due = working_days_after(stage_started, 3)",
    "ok = isinstance(x, str) and len(x) > 0",
    "text = 'a, b'.split(', ')\njoined = '-'.join(text).upper()",
    "plan = 'on a Child Protection Plan' if cp_or_lac == 'child_protection_plan' else 'Looked After'",
    "line = f'{reference}: {amount:.2f} ({share:>6.1%})'",
])
def test_computing_with_data_passes(source):
    check(source, "exec")


def test_no_forbidden_name_is_among_the_builtins_a_diagram_gets():
    assert not (SAFE_BUILTINS & FORBIDDEN_NAMES)
    assert "__import__" not in SAFE_BUILTINS and "open" not in SAFE_BUILTINS and "print" not in SAFE_BUILTINS


# --- planted in a copy of a real procedure ---------------------------------------------------------------------

DARLINGTON = read_folder(WORKFLOWS / "darlington")
PLANTED = [(kind, *cases[0]) for kind, cases in ESCAPES.items()] + [
    ("memory bombs", "x = 'a' * 10**9", "a repeated value"),
    ("CPU bombs", "x = 10\nfor i in range(40):\n    x = x * x", "larger than 4,096 bits"),
]


@pytest.mark.parametrize(("kind", "source", "message"), PLANTED, ids=[k for k, _, _ in PLANTED])
def test_a_copy_of_darlington_with_a_way_out_planted_is_refused(kind, source, message):
    planted = DARLINGTON.bpmn_xml.replace("<bpmn:script>stage = 1",
                                          f"<bpmn:script>{xml_escape(source)}\nstage = 1", 1)
    assert planted != DARLINGTON.bpmn_xml
    with pytest.raises(InvalidProcedure, match=r"script of enter_1: .*" + re.escape(message)):
        check_procedure(dataclasses.replace(DARLINGTON, bpmn_xml=planted))


def test_the_real_procedures_pass_unchanged():
    for name in ("darlington", "dudley", "tees", "stoke"):
        check_procedure(read_folder(WORKFLOWS / name))


# --- the sandboxed script engine --------------------------------------------------------------------------------

@pytest.fixture
def engine() -> StepScriptEngine:
    return StepScriptEngine(StepContext(now=START, calendar=WorkingCalendar("england-wales")))


def test_the_script_engine_runs_in_the_sandbox_environment(engine):
    assert isinstance(engine.environment, SandboxEnvironment)


def test_arithmetic_and_f_strings_evaluate(engine):
    assert engine.environment.evaluate("1 + 2 * 3", {}) == 7
    assert engine.environment.evaluate("f'{reference}: stage {stage + 1}'", {"reference": "DAR-2026-00001",
                                                                             "stage": 1}) == "DAR-2026-00001: stage 2"


def test_scripts_change_lists_in_the_task_data(engine):
    context = {"missed_deadlines": [1]}
    engine.environment.execute(
        "missed_deadlines = missed_deadlines + [2]\nmissed_deadlines.append(3)\n"
        "count = len(missed_deadlines)\nlatest = max(missed_deadlines)",
        context,
    )
    assert context == {"missed_deadlines": [1, 2, 3], "count": 3, "latest": 3}


def test_the_injected_functions_are_available_and_use_the_case_clock_and_calendar(engine):
    env = engine.environment
    assert env.evaluate("now()", {}) == "2026-12-18T15:00:00+00:00"
    assert env.evaluate("working_days_after(raised_at, 1)", {"raised_at": "2026-12-18T15:00:00+00:00"}) \
        == "2026-12-21T17:00:00+00:00"
    assert env.evaluate("hours_before(due, 4)", {"due": "2026-12-21T17:00:00+00:00"}) == "2026-12-21T13:00:00+00:00"
    assert env.evaluate("local_time(due)", {"due": "2026-12-21T17:00:00+00:00"}) == "Monday 21 December 2026, 17:00"


def test_the_sandbox_refuses_at_run_time_what_the_checker_refuses(engine):
    with pytest.raises(UnsafeScript):
        engine.environment.evaluate("__import__('os').getcwd()", {})
    with pytest.raises(UnsafeScript):
        engine.environment.execute("import os", {})
    with pytest.raises(UnsafeScript):
        engine.environment.execute("x = ().__class__.__bases__", {})
    with pytest.raises(UnsafeScript):
        engine.environment.evaluate("'{0.__class__}'.format(1)", {})


def test_builtins_outside_the_list_do_not_exist_at_run_time(engine):
    with pytest.raises(UnsafeScript, match="'print' is not allowed"):
        engine.environment.evaluate("print('hello')", {})
    with pytest.raises(NameError):
        engine.environment.execute("x = chr(65)", {})


# --- contained at run time: what only a case's data decides --------------------------------------------------------

@pytest.mark.parametrize(("source", "data", "message"), [
    ("text = answer * copies", {"answer": "ab", "copies": 10**9}, "a repeated value of 2,000,000,000"),
    ("x = base\nfor i in range(rounds):\n    x = x * x", {"base": 10, "rounds": 40}, "larger than 4,096 bits"),
    ("for i in range(n):\n    for j in range(n):\n        pass", {"n": 10**5}, "loops took more than 100,000"),
    ("x = f'{answer:>{width}}'", {"answer": "a", "width": 10**9}, "a format width may be at most 1,000"),
    ("x = [[]]\nfor i in range(n):\n    x = [x, x]\ny = str(x)", {"n": 60}, "a text longer than 1,000,000"),
    ("x = [[]]\nfor i in range(n):\n    x = [x, x]", {"n": 60}, "a text longer than 1,000,000"),
    ("x = answer.join([answer] * n)", {"answer": "a" * 1000, "n": 10**4}, "characters or items"),
    ("x = [answer.upper() for i in range(n)]", {"answer": "a" * 900_000, "n": 100}, "characters and items in all"),
    ("x = ''\nfor part in parts:\n    x = x + part * 1000", {"parts": ["abc"] * 1000}, "characters"),
], ids=["repetition", "squaring", "nested-loops", "format-width", "nested-lists-as-text", "nested-lists-kept",
        "join", "total-made", "growing-text"])
def test_a_bomb_the_data_decides_stops_at_its_limit(engine, source, data, message):
    check(source)  # nothing to see at publish: the case's data decides
    started = time.perf_counter()
    with pytest.raises(ScriptLimit, match=re.escape(message)):
        engine.environment.execute(source, dict(data))
    assert time.perf_counter() - started < 5


def test_an_evaluation_stops_when_its_time_is_up():
    from engine.bpmn import scripting as sandbox

    # Each item is cheap to check but slow to do; well within the iterations, not within 0.05 s of CPU.
    code = sandbox.compile_script("x = [text.count('a') for i in range(90000)]", "exec")
    started = time.perf_counter()
    with pytest.raises(ScriptLimit, match="ran longer than 0.05 s"):
        sandbox.run(code, {"text": "ab" * 500_000}, "exec", Limits(seconds=0.05))
    assert time.perf_counter() - started < 2


def test_straight_line_work_is_timed_line_by_line():
    from engine.bpmn import scripting as sandbox

    code = sandbox.compile_script("\n".join(["x = sorted(text)"] * 400), "exec")
    with pytest.raises(ScriptLimit, match="ran longer than 0.05 s"):
        sandbox.run(code, {"text": "ba" * 200_000}, "exec", Limits(seconds=0.05, made=10**9))


def test_functions_do_not_leak_into_the_task_data(engine):
    context = {"a": 1}
    engine.environment.execute("b = a + 1", context)
    assert context == {"a": 1, "b": 2}
    assert "__builtins__" not in context and "notify" not in context


# --- diagrams are checked when published --------------------------------------------------------------------------

def test_a_harmless_diagram_parses(engine):
    spec, _ = parse_procedure(diagram("done = True"), "tiny")
    assert "answer" in spec.task_specs
    check_procedure(files(diagram("done = True")))


def test_a_diagram_whose_script_imports_os_is_refused_by_its_scripts_check():
    with pytest.raises(InvalidProcedure) as refused:
        check_scripts(diagram("import os\nos.system('id')"))
    assert str(refused.value) == "script of work: imports are not allowed in a diagram (line 1)"


def test_a_diagram_whose_script_imports_os_is_refused_by_check_procedure():
    with pytest.raises(InvalidProcedure, match="script of work: imports are not allowed in a diagram"):
        check_procedure(files(diagram("import os")))


def test_a_diagram_whose_script_reaches_dunders_is_refused():
    with pytest.raises(InvalidProcedure, match='script of work: "__subclasses__" is an invalid attribute name'):
        check_procedure(files(diagram("x = ().__class__.__base__.__subclasses__()")))


def test_a_diagram_whose_condition_calls_import_is_refused():
    with pytest.raises(InvalidProcedure, match=r'conditionExpression of f3: "__import__" is an invalid variable'):
        check_procedure(files(diagram(condition="__import__('os').system('id') == 0")))


def test_a_diagram_whose_timer_expression_opens_a_file_is_refused():
    boundary_free_timer = diagram().replace(
        '<bpmn:endEvent id="end" />',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="wait_timer">'
        "<bpmn:timeDate>open('/etc/passwd').read()</bpmn:timeDate>"
        '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent><bpmn:endEvent id="end" />',
    )
    with pytest.raises(InvalidProcedure, match=r"timeDate of wait_timer: 'open' is not allowed"):
        check_procedure(files(boundary_free_timer))


def test_a_diagram_whose_due_property_uses_a_lambda_is_refused():
    xml = diagram().replace('<spiffworkflow:property name="stage" value="1" />',
                            '<spiffworkflow:property name="stage" value="1" />'
                            '<spiffworkflow:property name="due" value="(lambda: 1)()" />')
    with pytest.raises(InvalidProcedure, match="defining functions"):
        check_procedure(files(xml))


@pytest.mark.parametrize("loop", [
    '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>__import__("os").getpid()'
    "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>",
    '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>'
    "<bpmn:completionCondition>open('/etc/passwd')</bpmn:completionCondition>"
    "</bpmn:multiInstanceLoopCharacteristics>",
    "<bpmn:standardLoopCharacteristics><bpmn:loopCondition>().__class__</bpmn:loopCondition>"
    "</bpmn:standardLoopCharacteristics>",
], ids=["loopCardinality", "completionCondition", "loopCondition"])
def test_a_diagram_whose_loop_expression_leaves_the_sandbox_is_refused_when_published(loop):
    # Loop expressions run through the same script engine as conditions and timers, so publishing must check them.
    with pytest.raises(InvalidProcedure):
        check_procedure(files(diagram(user_task_extra=loop)))


# --- the XML itself -------------------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="tiny"><bpmn:documentation>&lol4;</bpmn:documentation></bpmn:process>
</bpmn:definitions>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="tiny"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_a_diagram_with_a_doctype_or_entities_is_refused(xml):
    with pytest.raises(InvalidProcedure, match="may not contain a DOCTYPE or entity declarations"):
        parse_procedure(xml, "tiny")
    with pytest.raises(InvalidProcedure, match="DOCTYPE"):
        check_procedure(files(xml))


def test_a_diagram_with_a_doctype_is_refused_whatever_its_encoding():
    # parse_xml takes bytes too; UTF-16 hides the declaration from a search for b"<!DOCTYPE".
    with pytest.raises(InvalidProcedure, match="DOCTYPE"):
        parse_xml(EXTERNAL_ENTITY.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
                  .encode("utf-16"))


@pytest.mark.parametrize("xml", [
    "<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'><bpmn:process id='tiny'>",
    "not xml at all",
    "",
    diagram().replace("</bpmn:userTask>", ""),
], ids=["unclosed", "text", "empty", "mismatched-tags"])
def test_malformed_xml_is_refused(xml):
    with pytest.raises(InvalidProcedure, match="not well-formed XML"):
        parse_procedure(xml, "tiny")


def test_a_diagram_without_the_named_process_is_refused():
    with pytest.raises(InvalidProcedure, match="not valid BPMN"):
        parse_procedure(diagram(), "no_such_process")
