"""The errors graphviz-ad raises.  Each message names the operation, the shapes involved and
the line of the user's code that asked for it."""


class TraceError(Exception):
    """Something in the traced function cannot be recorded faithfully."""


class UnsupportedOperation(TraceError):
    """The traced function called a numpy operation that has no derivative rule here."""


class UnsupportedAttribute(UnsupportedOperation, AttributeError):
    """An ndarray attribute or method that a traced value does not offer.  Also an
    AttributeError, so that ``hasattr`` and ``getattr(x, name, default)`` keep working."""


class ShapeError(TraceError, ValueError):
    """The operands of an operation do not fit together (broadcasting, matmul, concat)."""


class RenderError(RuntimeError):
    """A picture could not be made: no Graphviz program was found, or the one found cannot
    write the format asked for.  The message names what is missing and how to install it."""
