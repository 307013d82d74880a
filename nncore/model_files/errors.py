"""How a model file is refused: ``ModelFileError``, one line saying what is wrong."""

from __future__ import annotations


class ModelFileError(ValueError):
    """The file is not a usable nncore model; the message says what is wrong.

    A message may quote the file — a member's name, a value, the complaint of a layer it
    describes — and a file may hold millions of characters: every message is made one line
    of at most ``MAX_MESSAGE`` characters here, where all of them pass. The beginning (which
    file, what is wrong) and the end (what was expected) are kept; the middle gives way."""

    MAX_MESSAGE = 300

    def __init__(self, message: str):
        message = " ".join(str(message).splitlines())
        if len(message) > self.MAX_MESSAGE:
            head = 2 * self.MAX_MESSAGE // 3
            message = message[:head] + " … " + message[head + 3 - self.MAX_MESSAGE:]
        super().__init__(message)


def shown(value) -> str:
    """A value of the file as a sentence quotes it: its repr, cut after 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"
