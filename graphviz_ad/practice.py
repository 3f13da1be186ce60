"""Practice mode: the backward pass (or the forward tangents) as a sequence of questions.

Stepping through a pass shows each contribution; practising asks for it first.  Every
contribution of the pass becomes a question, in the order the debugger steps them:

* a **number question** when the contribution has at most :data:`MAX_TYPED` entries: the
  student types ``6``, ``-1/3`` or ``[1, 2, 3]`` (numpy's ``[1. 2. 3.]`` too), and the
  answer is right within :data:`TOLERANCE` (relative to the contribution's scale);
* a **rule question** for a bigger one (or for every step with ``ask="rules"``): which of
  four rules is the edge's local Jacobian?  The three wrong ones are the transposed rule
  (the layout slip), the rules of the other operands of the same operation, and rules of
  other edges of the graph.

A wrong first answer gets the rule as a hint and a second try; a wrong second answer
reveals the answer.  Either way the step is then revealed (its full text, as the debugger
writes it) and the next question comes.  The :class:`Score` counts answers right at the
first try, right at the second, and missed.

>>> import graphviz_ad as gad
>>> exercise = Exercise(gad.trace(lambda x: x + x ** 2, 3.0), "backward")
>>> exercise.question.prompt[-1]
'∂u₂/∂x += ∂u₂/∂u₂ · ∂u₂/∂x = ?'
>>> exercise.answer("1").correct, exercise.answer("1").correct   # x directly, then u₁
(True, True)
>>> verdict = exercise.answer("5")                                 # x through u₁: 2x = 6
>>> verdict.correct, verdict.final, verdict.hint
(False, False, 'the rule: ∂u₁/∂x = 2x, so ∂u₂/∂x += ∂u₂/∂u₁ · [2x]')
>>> exercise.answer("6").text
'✔ at the second try: ∂u₂/∂x += ∂u₂/∂u₁ · [2x] = 6  → ∂u₂/∂x = 7  (2 of 2, complete)'
>>> exercise.done, exercise.score.text
(True, '3 of 3 right: 2 at the first try, 1 at the second')

The engine holds no screen: the terminal's practice screen and ``graphviz-ad practice``
both drive an :class:`Exercise` (see :func:`exercises`).
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass

import numpy as np

from .debugger import Debugger
from .notation import array_text, derivative, shape_text
from .render.text import transposed_rule

MAX_TYPED = 6  # a contribution with more entries is asked as a rule choice
TOLERANCE = 5e-3  # relative to the answer's scale: three significant digits are enough
CHOICES = 4  # options of a rule question
ASK = ("auto", "rules", "both")
"""What to ask at each step: ``auto`` the number when it has at most :data:`MAX_TYPED`
entries and the rule otherwise; ``rules`` only the rule; ``both`` the rule, then the number
when it can be typed."""


class AnswerError(ValueError):
    """An answer that is not a number, an array or a choice: it costs no try."""


# -- reading an answer ---------------------------------------------------------------------------

# Whitespace between two entries separates them, as numpy prints arrays ([1. -2.  3.]);
# a sign followed by a space is an operator (1 - 2).
_SEPARATOR = re.compile(r"(?<=[\w.\])])\s+(?=[-+]?[\w.(\[])")
_NAMES = {"inf": np.inf, "nan": np.nan, "pi": np.pi, "e": np.e}
_OPERATORS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
              ast.Div: np.divide, ast.Pow: np.power}


def parse_answer(text: str) -> np.ndarray:
    """A typed number or array: ``2.5``, ``−1/3``, ``[1, 2, 3]``, ``[[1, 0], [0, 1]]``,
    numpy's ``[1. 2. 3.]``; ``inf`` and ``nan`` too.  Only numbers, brackets and ``+ − × /
    **`` are read (nothing is run).

    >>> parse_answer("[1, -2/4, 3e-1]").tolist(), float(parse_answer("−1/3") * 3)
    ([1.0, -0.5, 0.3], -1.0)
    """
    cleaned = (text.strip().replace("−", "-").replace("∞", "inf").replace("×", "*")
               .replace("·", "*").replace("^", "**"))
    if not cleaned:
        raise AnswerError("type a number such as 2.5 or -1/3, or an array such as [1, 2, 3]")
    cleaned = _SEPARATOR.sub(", ", cleaned)
    try:
        tree = ast.parse(cleaned, mode="eval")
        value = _evaluate(tree.body)
        with np.errstate(all="ignore"):
            return np.asarray(value, dtype=float)
    except (SyntaxError, ValueError, TypeError) as error:
        why = "" if isinstance(error, SyntaxError) else f" ({error})"  # Python's words: no
        raise AnswerError(f"cannot read {text.strip()!r} as a number or an array{why}; "
                          "type a number such as 2.5 or -1/3, or an array such as "
                          "[1, 2, 3]") from None


def _evaluate(node):
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id.lower() in _NAMES:
        return _NAMES[node.id.lower()]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand)
        return np.negative(value) if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        with np.errstate(all="ignore"):
            return _OPERATORS[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_evaluate(item) for item in node.elts]
    raise ValueError(f"{ast.unparse(node)!r} is not a number")


def close_enough(answer, expected, tolerance: float = TOLERANCE) -> bool:
    """Whether ``answer`` matches ``expected`` entry by entry, each within ``tolerance``
    times the larger of its own size and the array's largest entry (so 0.333 is 1/3 and an
    entry of rounding noise is 0); NaN matches NaN and ∞ matches ∞ of the same sign.

    >>> close_enough(0.333, 1 / 3), close_enough(0.3, 1 / 3), close_enough([1, 0], [1, 1e-17])
    (True, False, True)
    """
    answer = np.asarray(answer, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if answer.shape != expected.shape:
        return False
    finite = np.isfinite(expected)
    if not np.array_equal(np.isfinite(answer), finite):
        return False
    special = ~finite
    if not np.array_equal(answer[special], expected[special], equal_nan=True):
        return False
    scale = np.max(np.abs(expected[finite]), initial=0.0)
    error = np.abs(answer[finite] - expected[finite])
    return bool(np.all(error <= tolerance * np.maximum(np.abs(expected[finite]), scale)))


# -- questions and verdicts ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Question:
    """One question about ``step``: ``kind`` is ``"number"`` (type the contribution) or
    ``"rule"`` (pick the local Jacobian among ``choices``, ``answer`` its index).

    ``prompt`` is the question as lines: the operation, what is known, what is asked.
    """

    step: object
    kind: str
    prompt: tuple[str, ...]
    answer: object
    hint: str
    choices: tuple[str, ...] = ()

    @property
    def answer_text(self) -> str:
        """The right answer as written: the contribution's numbers, or the right rule."""
        if self.kind == "rule":
            return f"{_LETTERS[self.answer]}) {self.choices[self.answer]}"
        return array_text(self.answer)


_LETTERS = "abcdefgh"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an answer earned: ``correct``; ``final`` when the question is over (right, or
    wrong twice); ``hint`` for a second try; ``text`` in words (✔ or ✘ and what follows)."""

    correct: bool
    final: bool
    text: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Score:
    """Answers right at the first try, right at the second, and missed (out of ``total``
    questions, including those not answered yet)."""

    first: int = 0
    second: int = 0
    missed: int = 0
    total: int = 0

    @property
    def right(self) -> int:
        return self.first + self.second

    @property
    def answered(self) -> int:
        return self.right + self.missed

    @property
    def text(self) -> str:
        """``5 of 7 right: 4 at the first try, 1 at the second, 2 missed``."""
        parts = [f"{self.first} at the first try"]
        if self.second:
            parts.append(f"{self.second} at the second")
        if self.missed:
            parts.append(f"{self.missed} missed")
        return f"{self.right} of {self.total} right: " + ", ".join(parts)

    def __add__(self, other: Score) -> Score:
        return Score(self.first + other.first, self.second + other.second,
                     self.missed + other.missed, self.total + other.total)


# -- an exercise ---------------------------------------------------------------------------------


class Exercise:
    """One pass of ``graph`` (``"backward"`` or ``"tangent"``) asked step by step.

    ``question`` is the question now asked (None when done), ``answer(text)`` checks a typed
    answer (a rule question takes ``a``–``d``, ``1``–``4`` or the rule itself) and returns
    a :class:`Verdict`; ``give_up()`` reveals the answer.  ``debugger`` is on the last step
    revealed, so a picture of the pass can follow the exercise.  ``seed`` and ``direction``
    are the pass's as for :class:`~graphviz_ad.debugger.Debugger`; ``shuffle`` makes the
    order of the choices (the same shuffle always gives the same exercise).
    """

    def __init__(self, graph, mode: str = "backward", seed=None, direction=None,
                 ask: str = "auto", tolerance: float = TOLERANCE, shuffle: int = 0):
        if mode not in ("backward", "tangent"):
            raise ValueError(f"practice steps a backward or a tangent pass, not {mode!r}")
        if ask not in ASK:
            raise ValueError(f"ask must be one of {ASK}, not {ask!r}")
        self.graph = graph
        self.mode = mode
        self.ask = ask
        self.tolerance = tolerance
        self.debugger = Debugger(graph, mode, seed=seed, direction=direction)
        self._seed, self._direction = seed, direction
        self._random = random.Random(shuffle)
        self._rules: list[str] | None = None  # every edge's rule, gathered when first needed
        self._pending: list[Question] = []
        self._tries = 0
        self._counts = {"first": 0, "second": 0, "missed": 0}
        self.total = sum(len(self._kinds(step)) for step in self._steps())
        self.question: Question | None = None
        self._advance()

    @property
    def title(self) -> str:
        """``backward pass of f`` / ``forward tangents of f``."""
        what = "backward pass" if self.mode == "backward" else "forward tangents"
        return f"{what} of {self.graph.name}"

    @property
    def done(self) -> bool:
        return self.question is None

    @property
    def score(self) -> Score:
        return Score(**self._counts, total=self.total)

    @property
    def tries(self) -> int:
        """Wrong answers to the current question so far (0 or 1)."""
        return self._tries

    @property
    def number(self) -> int:
        """The current question's number, from 1 (``total + 1`` when done)."""
        return self.score.answered + 1

    def _steps(self):
        """The pass's steps that carry a contribution along an edge (seeds are given)."""
        if self.mode == "backward":
            steps = self.debugger.backward(self._seed)
        else:
            steps = self.debugger.tangent(self._direction)
        return (step for step in steps if step.via is not None)

    def _kinds(self, step) -> tuple[str, ...]:
        typed = np.size(step.contribution) <= MAX_TYPED
        if self.ask == "rules" or not typed:
            return ("rule",)
        if self.ask == "both":
            return ("rule", "number")
        return ("number",)

    # -- answering -----------------------------------------------------------------------------
    def answer(self, text: str) -> Verdict:
        """Check a typed answer to the current question.  Text that is not an answer
        raises :class:`AnswerError` and costs no try."""
        question = self.question
        if question is None:
            raise AnswerError("the exercise is over: every contribution has been revealed")
        if question.kind == "rule":
            correct = self._choice(text, question) == question.answer
            mistake = ""
        else:
            typed = parse_answer(text)
            expected = np.asarray(question.answer, dtype=float)
            if typed.size == expected.size == 1:
                typed = typed.reshape(expected.shape)
            correct = close_enough(typed, expected, self.tolerance)
            mistake = "" if typed.shape == expected.shape else (
                f" ({self._shape_slip(question.step, typed, expected)})")
        if correct:
            self._counts["second" if self._tries else "first"] += 1
            when = "at the second try: " if self._tries else ""
            return self._finish(True, f"✔ {when}{question.step.text}")
        if self._tries == 0:
            self._tries = 1
            return Verdict(False, False, f"✘ not quite{mistake}; try again", question.hint)
        self._counts["missed"] += 1
        return self._finish(False, f"✘{mistake} the answer is {question.answer_text}: "
                                   f"{question.step.text}")

    def give_up(self) -> Verdict:
        """Reveal the answer to the current question (it counts as missed)."""
        question = self.question
        if question is None:
            raise AnswerError("the exercise is over: every contribution has been revealed")
        self._counts["missed"] += 1
        return self._finish(False, f"the answer is {question.answer_text}: {question.step.text}")

    def _finish(self, correct: bool, text: str) -> Verdict:
        self._tries = 0
        step = self.question.step
        if not self._pending:  # the last question about this step: reveal it
            self.debugger.goto(step.index)
        self._advance()
        return Verdict(correct, True, text)

    def _choice(self, text: str, question: Question) -> int:
        typed = text.strip().lower().rstrip(")")
        count = len(question.choices)
        if len(typed) == 1 and typed in _LETTERS[:count]:
            return _LETTERS.index(typed)
        if typed.isdigit() and 1 <= int(typed) <= count:
            return int(typed) - 1
        for index, choice in enumerate(question.choices):
            if _plain(choice) == _plain(text):
                return index
        raise AnswerError(f"pick one of the rules: type a letter a–{_LETTERS[count - 1]} "
                          f"or a number 1–{count}")

    def _shape_slip(self, step, typed, expected) -> str:
        what = step.name(step.node)
        return (f"{what} has {step.node.label}'s shape, {shape_text(expected.shape)}; you typed "
                f"{shape_text(typed.shape)}")

    # -- making questions ----------------------------------------------------------------------
    def _advance(self) -> None:
        """Ask the next question; reveal seed steps on the way (they are given)."""
        if self._pending:
            self.question = self._pending.pop(0)
            return
        debugger = self.debugger
        while debugger.index + 1 < len(debugger):
            step = debugger.step()
            if step.via is None:
                continue
            debugger.back()  # not revealed until answered
            questions = [self._question(step, kind) for kind in self._kinds(step)]
            self.question, self._pending = questions[0], questions[1:]
            return
        self.question = None

    def _question(self, step, kind: str) -> Question:
        consumer = step.consumer
        operand = consumer.inputs[step.arg]
        local = derivative(consumer.label, operand.label)
        values = ", ".join(f"{node.label} = {array_text(node.value)}"
                           for node in dict.fromkeys(consumer.inputs)
                           if node.op != "const" or np.ndim(node.value))  # 2 is 2
        incoming = step.name(step.via)
        equation = step.equation(local)
        prompt = [f"{consumer.label} = {consumer.call_text} = {array_text(consumer.value)}"
                  f"    # {consumer.source}"]
        if values:
            prompt.append(f"where {values}")
        prompt.append(f"{incoming} = {array_text(step.upstream)}")
        if kind == "number":
            shape = np.shape(step.contribution)
            size = "" if not shape else f"  (a {shape_text(shape)} array)" if len(shape) > 1 \
                else f"  ({shape[0]} number{'s' * (shape[0] != 1)})"
            prompt.append(f"{equation} = ?{size}")
            hint = f"the rule: {local} = {step.local.rule}, so {step.equation()}"
            return Question(step, kind, tuple(prompt), np.asarray(step.contribution), hint)
        rows, cols = step.local.shape
        prompt.append(f"{equation}: which rule is {local} ({rows}×{cols})?")
        right = step.local.rule
        options = [right, *self._distractors(step)]
        self._random.shuffle(options)
        hint = (f"{local} is {rows}×{cols} ({consumer.label}'s size × {operand.label}'s "
                f"size), with {step.local.kind} structure")
        return Question(step, kind, tuple(prompt), options.index(right), hint, tuple(options))

    def _distractors(self, step) -> list[str]:
        """Three wrong rules, most tempting first: the transposed rule (when the Jacobian is
        not square, so it is surely wrong), the other operands' rules in the same operation,
        then rules of other edges; operand names fill in when the graph has few rules."""
        consumer, local = step.consumer, step.local
        right = _plain(local.rule)
        rows, cols = local.shape
        tempting = []
        if rows != cols:
            tempting.append(transposed_rule(local.rule))
        tempting += [consumer.jacobian(arg).rule for arg in range(len(consumer.inputs))
                     if arg != step.arg]
        others = [rule for rule in self._all_rules() if rule not in tempting]
        self._random.shuffle(others)
        names = [node.label for node in consumer.inputs] + [consumer.label]
        fillers = [form.format(name) for name in names
                   for form in ("{}", "{}ᵀ", "diag({})", "−{}")] + ["I", "−I", "1ᵀ", "0"]
        chosen: list[str] = []
        for rule in [*tempting, *others, *fillers]:
            if _plain(rule) != right and all(_plain(rule) != _plain(c) for c in chosen):
                chosen.append(rule)
            if len(chosen) == CHOICES - 1:
                break
        return chosen

    def _all_rules(self) -> list[str]:
        """Every edge's rule in this pass, in step order, each once."""
        if self._rules is None:
            seen = dict.fromkeys(step.local.rule for step in self._steps())
            self._rules = list(seen)
        return self._rules


def _plain(rule: str) -> str:
    """A rule without spaces or brackets, so that ``[2x]`` and ``2x`` count as one rule."""
    return re.sub(r"\s+", "", rule).strip("[]")


# -- a practice session --------------------------------------------------------------------------


def exercises(graph, modes=("backward", "tangent"), ask: str = "auto",
              tolerance: float = TOLERANCE, shuffle: int = 0) -> tuple[list[Exercise], list[str]]:
    """The exercises of a practice session on ``graph``: one per mode, in order, and the
    notes about passes left out (a backward pass of a non-scalar output needs a seed, as
    everywhere; its tangents are still practised).

    >>> import graphviz_ad as gad
    >>> found, notes = exercises(gad.trace(lambda x: x * x, 3.0))
    >>> [exercise.title for exercise in found], notes
    (['backward pass of <lambda>', 'forward tangents of <lambda>'], [])
    """
    found, notes = [], []
    for mode in modes:
        try:
            exercise = Exercise(graph, mode, ask=ask, tolerance=tolerance, shuffle=shuffle)
        except ValueError as error:
            notes.append(f"no {mode} exercise: {error}")
            continue
        if exercise.total:
            found.append(exercise)
        else:
            notes.append(f"no {mode} exercise: the {exercise.title} carries nothing along an "
                         "edge (the output depends on no input)")
    return found, notes
