"""Errors a user can cause and fix: the CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """A bad value from the user (config, files, checkpoint); the message names it and what is allowed."""


def find_user_error(error: BaseException):
    """The UserError behind ``error`` (Hydra wraps errors raised while it instantiates), or None."""
    while error is not None and not isinstance(error, UserError):
        error = error.__cause__ or error.__context__
    return error
