"""The errors graphviz-ad raises.  Each message names the operation, the shapes involved and
the line of the user's code that asked for it."""


class TraceError(Exception):
    """Something in the traced function cannot be recorded faithfully."""


class UnsupportedOperation(TraceError):
    """The traced function called a numpy operation that has no derivative rule here."""


class ShapeError(TraceError, ValueError):
    """The operands of an operation do not fit together (broadcasting, matmul, concat)."""
