"""Errors a user can cause and fix: the CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """A bad value from the user (config, files, checkpoint); the message names it and what is allowed."""

    def __init__(self, message: str = ""):
        # PyTorch re-raises a DataLoader worker's error as UserError("Caught UserError in DataLoader worker
        # process 0.\nOriginal Traceback ...\nnoisyrobust.errors.UserError: <message>"): keep the message
        if isinstance(message, str) and message.startswith("Caught UserError") and "Original Traceback" in message:
            message = message.rstrip().rsplit("UserError: ", 1)[-1]
        super().__init__(message)


def find_user_error(error: BaseException):
    """The UserError behind ``error`` (Hydra wraps errors raised while it instantiates), or None."""
    while error is not None and not isinstance(error, UserError):
        error = error.__cause__ or error.__context__
    return error
