"""How a CREW history or a constraint log can violate the protocol.

Each class is one way a log can be wrong, so that tests and the lab can tell
them apart; the message names the actor, the frame and the positions involved
(docs/architecture.md, "CREW" and "Positions").
"""

from xenrr.errors import ModelError


class IllegalTransition(ModelError):
    """A CREW event that the frame's state before it does not allow."""


class PositionError(ModelError):
    """An actor's positions go backwards, or a reduction does not follow its grant."""


class InconsistentConstraint(ModelError):
    """A logged constraint that names no CREW transition of the history."""


class MissingConstraint(InconsistentConstraint):
    """A transition whose required ordering the logged constraints do not imply."""


class ConstraintCycle(ModelError):
    """Constraints that no execution can satisfy: each waits on the next."""


class UnreachablePosition(ModelError):
    """A constraint naming a position its actor never reaches."""
