"""The trace errors; every one is a xenrr.errors.TraceError (exit status 1 at the CLI)."""

from xenrr.errors import TraceError


class NotATraceError(TraceError):
    """The file header or footer is not one this revision reads."""


class RecordError(TraceError):
    """A record cannot be encoded, or a decoded chunk holds a malformed record."""


class UnknownRecordError(RecordError):
    """A mandatory record of a type this revision does not know (spec "Compatibility")."""


class TraceWriteError(TraceError):
    """The writer could not create, write or finish the trace file."""


class TraceDamaged(TraceError):
    """Part of a trace was lost or is malformed; str() says what and where in one line."""
