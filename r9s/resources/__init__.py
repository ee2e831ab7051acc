"""One module per API area; each method collects the caller's arguments and hands the
operation to the client's driver."""

from r9s.resources.chat import Chat
from r9s.resources.completions import Completions
from r9s.resources.responses import Responses

__all__ = ["Chat", "Completions", "Responses"]
