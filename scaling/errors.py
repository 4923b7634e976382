"""User-facing errors: one line naming the file or argument, what is wrong, and the fix."""

from __future__ import annotations

from typing import Any


class ScalingError(Exception):
    """A user-facing error. The CLI prints ``error: <message>`` and exits with status 2."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class ArgumentError(ScalingError):
    """A bad value of an API function's argument, named as in Python: ``seed=-1: must be ...``.

    The command line shows the same error with the flag of the command's parameter of that name
    (``--seed -1: must be ...``), so the API speaks of arguments and the CLI of flags.
    """

    def __init__(self, argument: str, value: Any, problem: str):
        self.argument, self.value, self.problem = argument, value, problem
        super().__init__(f"{argument}={value!r}: {problem}")

    def with_flag(self, flag: str) -> str:
        """The message with ``flag`` in place of the argument's Python name."""
        value = self.value
        if isinstance(value, list | tuple):
            value = ",".join(map(str, value))
        return " ".join(f"{flag} {value}: {self.problem}".split())
