"""What a debugger step means for a picture: each node's status and running total, each
edge's status and contribution.  Read from the step engine's :class:`~graphviz_ad.debugger.
State` and its step records; nothing is computed here, only looked up and put into words.

Edge keys are the steps' ``edge.key``, ``(operand id, consumer id, arg)`` in the graph's
direction whatever the mode: a backward step that adds to ∂y/∂x along ``x → u₂`` marks the
edge ``(x, u₂, arg)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..notation import array_text, running_sum, total_name


@dataclass(frozen=True)
class StepView:
    mode: str
    number: int  # the step number as every front end shows it: 0 before the pass, seed 1
    length: int  # the pass's last step number
    text: str  # the step in words ("" before the first step)
    backprop_text: str  # the same with the backprop rule, in a backward pass (else text)
    node_status: dict  # node id -> "done" | "current" | "pending"
    node_total: dict  # node id -> text of its total so far (adjoint / tangent / value)
    node_array: dict  # node id -> the total itself, for pictures that lay a matrix out
    node_count: dict  # node id -> (contributions received, expected); backward and tangent
    edge_status: dict  # (operand id, consumer id, arg) -> "done" | "current"
    edge_value: dict  # same keys -> the contribution that travelled along the edge
    output: str  # the output's label, which names every adjoint (∂y/∂x)

    def total_name(self, node) -> str:
        """The row name of a node's total: ``∂y/∂x``, ``dx`` or ``value``."""
        return total_name(self.mode, node.label, self.output)


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
    node_array, node_count = {}, {}
    for node in graph.nodes:
        status = state.status(node)
        node_status[node.id] = status
        steps = state.contributions(node)
        if mode == "forward":
            if steps:
                node_array[node.id] = state.total(node)
                node_total[node.id] = array_text(node_array[node.id], digits, max_elements)
                for edge in steps[-1].edges:
                    edge_status[edge.key] = status
            continue
        if steps:
            parts = [s.contribution for s in steps]
            text = running_sum(parts, state.total(node), digits, max_elements)
            received, expected = len(steps), state.expected(node)
            node_array[node.id] = state.total(node)
            node_count[node.id] = (received, expected)
            if received < expected:
                text += f"  ({received} of {expected})"
            node_total[node.id] = text
        for s in steps:
            for edge in s.edges:
                edge_status[edge.key] = "done"
                edge_value[edge.key] = s.contribution
    current = state.current
    if current is not None and mode != "forward":
        for edge in current.edges:
            edge_status[edge.key] = "current"
    text = current.text if current is not None else ""
    backprop_text = getattr(current, "backprop_text", text)
    return StepView(mode, state.number, state.length, text, backprop_text, node_status,
                    node_total, node_array, node_count, edge_status, edge_value,
                    graph.output.label)
