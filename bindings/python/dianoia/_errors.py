"""Exceptions carrying the library's status code and message (dianoia_last_error)."""
from __future__ import annotations

from ._ffi import lib


class DianoiaError(Exception):
    """A dianoia call failed. `status` is the C status code, `status_name` its name, str() the message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.status_name = lib.dianoia_status_string(status).decode()


class InvalidArgumentError(DianoiaError, ValueError):
    pass


class ModelIOError(DianoiaError, OSError):
    pass


class FormatError(DianoiaError):
    pass


class UnsupportedError(DianoiaError):
    pass


class OutOfMemoryError(DianoiaError, MemoryError):
    pass


class ContextFullError(DianoiaError):
    pass


class CancelledError(DianoiaError):
    pass


class InternalError(DianoiaError):
    pass


_BY_STATUS = {
    1: InvalidArgumentError,
    2: ModelIOError,
    3: FormatError,
    4: UnsupportedError,
    5: OutOfMemoryError,
    6: ContextFullError,
    7: CancelledError,
    9: InternalError,
}


def error_for(status: int, message: str | None = None) -> DianoiaError:
    if message is None:
        message = lib.dianoia_last_error().decode("utf-8", "replace")
    if not message:
        message = lib.dianoia_status_string(status).decode()
    return _BY_STATUS.get(status, DianoiaError)(status, message)


def check(status: int) -> None:
    """Raises the exception for `status` (on the thread that made the call: the message is per thread)."""
    if status != 0:
        raise error_for(status)
