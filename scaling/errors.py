"""One error type for what a user can get wrong: a one-line message naming file, field, fix."""


class ScalingError(Exception):
    """A user-facing error. The CLI prints ``error: <message>`` and exits with status 2."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
