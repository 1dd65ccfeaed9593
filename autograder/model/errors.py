"""The base of every error a user can fix: a name that is not in the catalogue, a file that does
not parse, a class list, a secret. The CLI prints such an error as one line and exits with 2."""


class UserError(Exception):
    """An error whose message tells the user what to do; never a fault of the grader."""
