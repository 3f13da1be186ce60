"""What a debugger step means for a picture: each node's status and running total, each
edge's status and contribution.  Read from the step engine's :class:`~graphviz_ad.debugger.
State`; nothing is computed here, only looked up and put into words.

Edge keys are ``(operand id, consumer id, arg)`` in the graph's direction whatever the mode:
a backward step that adds to x̄ along ``x → u₂`` marks the edge ``(x, u₂, arg)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .text import array_text, running_sum

# The row name of a node's running total, as the debugger writes it: x̄ (adjoint), ẋ (tangent).
_MARK = {"backward": "\u0304", "tangent": "\u0307"}
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"


@dataclass(frozen=True)
class StepView:
    mode: str
    index: int  # the step's index, -1 before the first step
    text: str  # the step in words ("" before the first step)
    node_status: dict  # node id -> "done" | "current" | "pending"
    node_total: dict  # node id -> text of its total so far (adjoint / tangent / value)
    edge_status: dict  # (operand id, consumer id, arg) -> "done" | "current"
    edge_value: dict  # same keys -> the contribution that travelled along the edge

    def total_name(self, node) -> str:
        """The row name of a node's total: ``x̄``, ``ẋ`` or ``value``."""
        mark = _MARK.get(self.mode)
        if mark is None:
            return "value"
        base = node.label.rstrip(_SUBSCRIPTS)  # the mark goes on the letter: ū₇, not u₇̄
        return base + mark + node.label[len(base):]


def state_of(step):
    """A State from a State, a step (``step.state()``) or a Debugger (its cursor's state)."""
    if hasattr(step, "status") and hasattr(step, "contributions"):
        return step
    if callable(getattr(step, "state", None)):
        return step.state()
    raise TypeError(f"expected a debugger step, State or Debugger, not {type(step).__name__}")


def step_view(graph, step, digits: int = 4, max_elements: int = 6) -> StepView:
    """Statuses and totals of every node and edge at ``step``."""
    state = state_of(step)
    mode = state.mode
    node_status, node_total, edge_status, edge_value = {}, {}, {}, {}
    for node in graph.nodes:
        status = state.status(node)
        node_status[node.id] = status
        steps = state.contributions(node)
        if mode == "forward":
            if steps:
                node_total[node.id] = array_text(state.total(node), digits, max_elements)
                for arg, operand in enumerate(node.inputs):
                    edge_status[operand.id, node.id, arg] = status
            continue
        if steps:
            parts = [s.contribution for s in steps]
            text = running_sum(parts, state.total(node), digits, max_elements)
            received, expected = len(steps), state.expected(node)
            if received < expected:
                text += f"  ({received} of {expected})"
            node_total[node.id] = text
        for s in steps:
            if s.via is not None:
                key = _edge_key(mode, s)
                edge_status[key] = "done"
                edge_value[key] = s.contribution
    current = state.current
    if current is not None and mode != "forward" and current.via is not None:
        edge_status[_edge_key(mode, current)] = "current"
    text = current.text if current is not None else ""
    return StepView(mode, state.index, text, node_status, node_total, edge_status, edge_value)


def _edge_key(mode: str, step) -> tuple[int, int, int]:
    if mode == "backward":  # node is the operand whose adjoint grows, via its consumer
        return step.node.id, step.via.id, step.arg
    return step.via.id, step.node.id, step.arg  # tangent: node is the consumer
