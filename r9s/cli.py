"""``r9s chat``, ``complete``, ``respond``, ``message``, ``models``, ``embed``, ``speak``,
``transcribe``, ``image``: the API from a shell, on the sync client.

Why a module of its own: ``r9s/__main__.py`` only wires subcommands; the commands' logic lives
here, imports nothing but the standard library at import time, and loads the client when a
command runs (``import r9s`` never imports this module).

The rules every command keeps:

- stdout carries only the answer: its text (flushed per delta, a newline after it), the model
  ids, the embeddings' summaries, a transcript, the audio itself with ``speak -o -``, or with
  ``--json`` one compact JSON object per line; prompts, hints, what was written where, progress
  (only when stderr is a terminal) and errors go to stderr;
- an error is one line on stderr, ``r9s: error: <what>``, never a traceback, never the key;
- exit status: 0 done; 1 the call failed (an API error, no connection, a failed response);
  2 a usage or configuration error (argparse's own, no key, no model, no prompt, no text);
  130 interrupted (Ctrl-C);
- a reader that goes away (``r9s chat hi | head -c 5``) ends the command quietly with 0;
- a file written (``speak -o``, ``image -o``) is complete or not there: a failed or
  interrupted download removes what it wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TextIO

if TYPE_CHECKING:
    from r9s.client import R9S

__all__ = [
    "EMBEDDING_MODEL",
    "IMAGE_FORMAT",
    "MESSAGE_MAX_TOKENS",
    "SPEECH_MODEL",
    "TRANSCRIPTION_MODEL",
    "VOICE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROMPT",
    "add_commands",
    "silence_stdout",
]

EXIT_OK: Final = 0
#: The call failed: an API error, no connection, a response that failed.
EXIT_FAILED: Final = 1
#: Usage or configuration: the code argparse uses for bad arguments.
EXIT_USAGE: Final = 2
#: Interrupted by SIGINT: 128 + 2, as shells report it.
EXIT_INTERRUPTED: Final = 130
#: Shown on stderr before each turn of an interactive chat.
PROMPT: Final = "> "
#: ``r9s embed``'s model when ``--model`` is not given.
EMBEDDING_MODEL: Final = "text-embedding-3-small"
#: How many values of each vector ``r9s embed`` shows.
_SHOWN_VALUES: Final = 4
#: ``r9s message``'s ``max_tokens`` when ``--max-tokens`` is not given.
MESSAGE_MAX_TOKENS: Final = 1024
#: ``r9s speak``'s model and voice when not given.
SPEECH_MODEL: Final = "tts-1"
VOICE: Final = "alloy"
#: ``r9s transcribe``'s model when not given.
TRANSCRIPTION_MODEL: Final = "whisper-1"
#: What ``r9s image`` asks for: the image bytes, not a URL.
IMAGE_FORMAT: Final = "b64_json"
_AUDIO_FORMATS: Final = ("mp3", "opus", "aac", "flac", "wav", "pcm")
_TRANSCRIPT_FORMATS: Final = ("json", "text", "srt", "vtt", "verbose_json")
#: Least time between two progress updates on a terminal.
_PROGRESS_EVERY: Final = 0.1

_ENV_HELP = """\
environment:
  R9S_API_KEY   the API key (required)
  R9S_BASE_URL  the base URL (default: the client's, https://api.r9s.ai/v1)
  R9S_MODEL     the model when --model is not given

exit status: 0 done, 1 the call failed, 2 usage or configuration error, 130 interrupted
"""

_CHAT_HELP = """\
Send one chat message and stream the answer to stdout.  The prompt is the argument, else
stdin when it is piped or redirected.  With no argument and a terminal on stdin, chat
interactively: the prompt "> " is written to stderr, each turn sends the whole conversation,
Ctrl-C stops an answer (the turn is dropped from the history), Ctrl-D ends the session and
Ctrl-C at the prompt exits with 130."""


_MODELS_HELP = """\
List the models the API serves, one id per line (sorted).  With --details: id, owner and
creation date (UTC) in aligned columns, sorted by owner then id."""

_EMBED_HELP = f"""\
Embed texts with the embeddings API, all in one request.  Each text is an argument; with none,
each non-empty line of stdin is one text (when stdin is piped or redirected).  Prints, per text,
its index, the vector's dimension and its first {_SHOWN_VALUES} values."""

_MESSAGE_HELP = """\
Send one message with the Messages API (Claude models through the gateway) and stream the
answer's text to stdout.  The prompt is the argument, else stdin when it is piped or
redirected."""


_SPEAK_HELP = """\
Speak a text with the speech API and write the audio to -o FILE as it arrives (-o - writes it
to stdout).  The text is the argument, else stdin when it is piped or redirected.  Prints the
size and where it went on stderr, and the bytes so far while downloading when stderr is a
terminal.  A failed download leaves no file."""


_TRANSCRIBE_HELP = """\
Transcribe an audio file with the transcriptions API and print the text (formats json and
verbose_json: the text; text, srt and vtt: the server's text as it is)."""


_IMAGE_HELP = """\
Generate images with the images API and write them as PNG files to -o FILE (with -n 2 or more:
FILE-1.png, FILE-2.png ...).  The prompt is the argument, else stdin when it is piped or
redirected.  Prints each file's size and path on stderr."""


_EMBED_ENV_HELP = """\
environment:
  R9S_API_KEY   the API key (required)
  R9S_BASE_URL  the base URL (default: the client's, https://api.r9s.ai/v1)

exit status: 0 done, 1 the call failed, 2 usage or configuration error, 130 interrupted
"""


class _UsageError(Exception):
    """A configuration or usage problem found after parsing: exit 2 with this message."""


class _CallFailed(Exception):
    """The call failed in a way that is no ``R9SError`` (a ``response.failed`` event, a file
    that cannot be written)."""


class _OutputClosed(Exception):
    """The reader of stdout went away (EPIPE)."""


class _Out:
    """stdout for answers: flushed per write; EPIPE (or no stdout at all) is ``_OutputClosed``."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self.at_line_start = True

    def write(self, text: str) -> None:
        if not text:
            return
        if self._stream is None:  # started with stdout closed (``>&-``)
            raise _OutputClosed
        try:
            self._stream.write(text)
            self._stream.flush()
        except BrokenPipeError:
            raise _OutputClosed from None
        self.at_line_start = text.endswith("\n")

    def end_line(self) -> None:
        """End the current line, if text was written on it."""
        if not self.at_line_start:
            self.write("\n")


class _Operation(NamedTuple):
    """One API operation as the CLI drives it."""

    name: str
    #: The text one streamed event adds, or None (may raise ``_CallFailed``).
    stream_text: Callable[[Any], str | None]
    #: The text of a whole (non-streamed) result.
    result_text: Callable[[Any], str]


def _event_text(event: Any) -> str | None:
    """The text a streamed event adds: the core's ``text_of``, as ``text_deltas()`` uses it.

    Raises:
        _CallFailed: a ``response.failed`` event (the responses API reports failure in-band).
    """
    from r9s._core.accumulate import text_of

    if getattr(event, "type", None) == "response.failed":
        response = event.response
        error = response.error if response is not None else None
        message = error.message if error is not None else None
        raise _CallFailed(f"the response failed: {message or 'no reason given'}")
    return text_of(event)


def _chat_text(res: Any) -> str:
    choices = res.choices
    if not choices or choices[0].message is None:
        return ""
    content = choices[0].message.content
    return content if isinstance(content, str) else ""


def _completion_text(res: Any) -> str:
    choices = res.choices
    text = choices[0].text if choices else None
    return text if isinstance(text, str) else ""


def _message_text(res: Any) -> str:
    """The text blocks of a Messages API answer, joined."""
    texts = [
        block.text
        for block in res.content or ()
        if getattr(block, "type", None) == "text" and isinstance(block.text, str)
    ]
    return "".join(texts)


_OPERATIONS: Final = {
    "chat": _Operation("chat", _event_text, _chat_text),
    "complete": _Operation("complete", _event_text, _completion_text),
    "respond": _Operation("respond", _event_text, lambda res: str(res.output_text)),
    "message": _Operation("message", _event_text, _message_text),
}


# ----------------------------------------------------------------------------- arguments


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    parents: list[argparse.ArgumentParser],
    *,
    help: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    """A subcommand's parser, its texts shown as written."""
    return sub.add_parser(
        name,
        parents=parents,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chat``, ``complete``, ``respond``, ``message``, ``models``, ``embed``, ``speak``,
    ``transcribe`` and ``image`` to the ``r9s`` parser's subcommands."""
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--base-url",
        default=None,
        help="the API's base URL (default: $R9S_BASE_URL, else https://api.r9s.ai/v1)",
    )
    connection.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="connect and read timeout in seconds (default: the client's)",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[connection])
    common.add_argument("-m", "--model", default=None, help="the model (default: $R9S_MODEL)")
    common.add_argument("--temperature", type=float, default=None, help="sampling temperature")
    common.add_argument(
        "--max-tokens",
        type=_positive_int,
        default=None,
        help="most tokens to generate (respond: max_output_tokens)",
    )
    common.add_argument(
        "--no-stream",
        dest="stream",
        action="store_false",
        help="wait for the whole answer instead of streaming it",
    )
    common.add_argument(
        "--json",
        action="store_true",
        help="print the raw objects as JSON lines (each streamed event, or the result)",
    )
    chat = _command(
        sub,
        "chat",
        [common],
        help="chat: stream an answer, or talk interactively",
        description=_CHAT_HELP,
        epilog=_ENV_HELP,
    )
    chat.add_argument("prompt", nargs="?", help="the message (default: stdin)")
    chat.add_argument("--system", default=None, help="a system message sent first")
    chat.set_defaults(func=_runner(_run), operation="chat")

    complete = _command(
        sub,
        "complete",
        [common],
        help="text completion (the completions API)",
        description="Complete a prompt with the completions API.  The completions API has "
        "no system message: --system is refused (put it in the prompt).",
        epilog=_ENV_HELP,
    )
    complete.add_argument("prompt", nargs="?", help="the prompt (default: stdin)")
    complete.add_argument(
        "--system", default=None, help="refused: the completions API has no system message"
    )
    complete.set_defaults(func=_runner(_run), operation="complete")

    respond = _command(
        sub,
        "respond",
        [common],
        help="the responses API (streams response.output_text.delta)",
        description="Answer an input with the responses API.",
        epilog=_ENV_HELP,
    )
    respond.add_argument("prompt", nargs="?", metavar="input", help="the input (default: stdin)")
    respond.add_argument("--system", default=None, help="sent as instructions")
    respond.set_defaults(func=_runner(_run), operation="respond")

    message = _command(
        sub,
        "message",
        [connection],
        help="the Anthropic Messages API (streams text_delta text)",
        description=_MESSAGE_HELP,
        epilog=_ENV_HELP,
    )
    message.add_argument("prompt", nargs="?", help="the message (default: stdin)")
    message.add_argument("-m", "--model", default=None, help="the model (default: $R9S_MODEL)")
    message.add_argument("--system", default=None, help="the system prompt")
    message.add_argument(
        "--max-tokens",
        type=_positive_int,
        default=MESSAGE_MAX_TOKENS,
        help=f"most tokens to generate (default: {MESSAGE_MAX_TOKENS})",
    )
    message.add_argument("--temperature", type=float, default=None, help="sampling temperature")
    message.add_argument(
        "--no-stream",
        dest="stream",
        action="store_false",
        help="wait for the whole answer instead of streaming it",
    )
    message.add_argument(
        "--json",
        action="store_true",
        help="print the raw objects as JSON lines (each streamed event, or the message)",
    )
    message.set_defaults(func=_runner(_run), operation="message")

    models = _command(
        sub,
        "models",
        [connection],
        help="list the models the API serves",
        description=_MODELS_HELP,
        epilog=_EMBED_ENV_HELP,
    )
    models.add_argument(
        "--details", action="store_true", help="add each model's owner and creation date"
    )
    models.add_argument("--json", action="store_true", help="print the list as one JSON line")
    models.set_defaults(func=_runner(_models))

    embed = _command(
        sub,
        "embed",
        [connection],
        help="embed texts (the embeddings API)",
        description=_EMBED_HELP,
        epilog=_EMBED_ENV_HELP,
    )
    embed.add_argument("texts", nargs="*", metavar="TEXT", help="a text (default: stdin lines)")
    embed.add_argument(
        "-m", "--model", default=EMBEDDING_MODEL, help=f"the model (default: {EMBEDDING_MODEL})"
    )
    embed.add_argument(
        "--dimensions", type=_positive_int, default=None, metavar="N", help="the vectors' length"
    )
    embed.add_argument("--json", action="store_true", help="print the result as one JSON line")
    embed.set_defaults(func=_runner(_embed))

    speak = _command(
        sub,
        "speak",
        [connection],
        help="text to speech: write the audio to a file (or stdout)",
        description=_SPEAK_HELP,
        epilog=_EMBED_ENV_HELP,
    )
    speak.add_argument("text", nargs="?", help="the text to speak (default: stdin)")
    speak.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="where to write the audio (- for stdout)",
    )
    speak.add_argument(
        "-m", "--model", default=SPEECH_MODEL, help=f"the model (default: {SPEECH_MODEL})"
    )
    speak.add_argument("--voice", default=VOICE, help=f"the voice (default: {VOICE})")
    speak.add_argument(
        "--format",
        choices=_AUDIO_FORMATS,
        default=None,
        help="the audio format (default: from the output file's extension, else mp3)",
    )
    speak.add_argument("--speed", type=float, default=None, help="0.25 to 4.0 (default: 1)")
    speak.set_defaults(func=_runner(_speak))

    transcribe = _command(
        sub,
        "transcribe",
        [connection],
        help="speech to text: print the transcript of an audio file",
        description=_TRANSCRIBE_HELP,
        epilog=_EMBED_ENV_HELP,
    )
    transcribe.add_argument("file", metavar="FILE", help="the audio file")
    transcribe.add_argument(
        "-m",
        "--model",
        default=TRANSCRIPTION_MODEL,
        help=f"the model (default: {TRANSCRIPTION_MODEL})",
    )
    transcribe.add_argument(
        "--format",
        choices=_TRANSCRIPT_FORMATS,
        default=None,
        help="the answer's format (default: the API's, json)",
    )
    transcribe.add_argument("--language", default=None, help="the audio's language (ISO-639-1)")
    transcribe.add_argument("--prompt", default=None, help="text to guide the transcription")
    transcribe.add_argument("--json", action="store_true", help="print the result as one JSON line")
    transcribe.set_defaults(func=_runner(_transcribe))

    image = _command(
        sub,
        "image",
        [connection],
        help="generate images from a prompt into PNG files",
        description=_IMAGE_HELP,
        epilog=_EMBED_ENV_HELP,
    )
    image.add_argument("prompt", nargs="?", help="what to draw (default: stdin)")
    image.add_argument("-o", "--output", default=None, metavar="FILE", help="the image file")
    image.add_argument("-m", "--model", default=None, help="the model (default: the API's)")
    image.add_argument(
        "--size", default=None, help="WIDTHxHEIGHT, e.g. 1024x1024 (default: the client's)"
    )
    image.add_argument(
        "-n", type=_positive_int, default=None, metavar="N", help="how many images (default: 1)"
    )
    image.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON line (the files are written only with -o)",
    )
    image.set_defaults(func=_runner(_image))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0: {text}")
    return value


# ----------------------------------------------------------------------------- running


def _runner(
    command: Callable[[argparse.Namespace, _Out], int],
) -> Callable[[argparse.Namespace], int]:
    """The function a subcommand runs: ``command`` with the CLI's guards (exit statuses,
    errors as one line, a closed pipe; see the module docstring)."""

    def run(args: argparse.Namespace) -> int:
        return _guarded(command, args)

    return run


def _guarded(command: Callable[[argparse.Namespace, _Out], int], args: argparse.Namespace) -> int:
    """Run a command, turning every way it can end into an exit status."""
    from r9s.errors import R9SError

    out = _Out(sys.stdout)
    try:
        return command(args, out)
    except _UsageError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except (R9SError, _CallFailed) as exc:
        _end_line_quietly(out)
        _error(str(exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        _end_line_quietly(out)
        return EXIT_INTERRUPTED
    except _OutputClosed:
        silence_stdout()
        return EXIT_OK


def _run(args: argparse.Namespace, out: _Out) -> int:
    op = _OPERATIONS[args.operation]
    if op.name == "complete" and args.system is not None:
        raise _UsageError(
            "--system is not supported by complete (the completions API has no system "
            "message): put it in the prompt"
        )
    key = _api_key()
    model = args.model or os.environ.get("R9S_MODEL")
    if not model:
        raise _UsageError("no model: pass --model or set R9S_MODEL")
    base_url = _base_url(args)

    prompt = args.prompt
    if prompt is not None and not prompt.strip():
        raise _UsageError("no prompt: the prompt argument is empty")
    interactive = False
    if prompt is None:
        if _stdin_is_terminal():
            if op.name != "chat":
                raise _UsageError(f"no prompt: r9s {op.name} 'your prompt', or pipe it on stdin")
            interactive = True
        else:
            prompt = _read_stdin()

    with _client(key, base_url, args) as client:
        if interactive:
            return _interactive(client, args, model, out)
        assert prompt is not None
        params = _params(op, args, model, prompt)
        _call(client, op, params, args, out)
    return EXIT_OK


def _api_key() -> str:
    key = os.environ.get("R9S_API_KEY")
    if not key:
        raise _UsageError("R9S_API_KEY is not set: export R9S_API_KEY=<your key>")
    return key


def _base_url(args: argparse.Namespace) -> str | None:
    base_url: str | None = args.base_url or os.environ.get("R9S_BASE_URL") or None
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise _UsageError(f"the base URL must start with http:// or https://, got {base_url!r}")
    return base_url


def _client(key: str, base_url: str | None, args: argparse.Namespace) -> R9S:
    from r9s.client import R9S

    timeout_ms = None if args.timeout is None else max(1, round(args.timeout * 1000))
    return R9S(api_key=key, server_url=base_url, timeout_ms=timeout_ms)


def _stdin_is_terminal() -> bool:
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (OSError, ValueError):
        return False


def _read_stdin(what: str = "no prompt") -> str:
    stdin = sys.stdin
    closed = _UsageError(f"{what}: give it as an argument or on stdin (stdin is closed)")
    if stdin is None:
        raise closed
    try:
        text = stdin.read()
    except UnicodeDecodeError as exc:
        raise _UsageError(f"could not decode stdin as {stdin.encoding}: {exc.reason}") from None
    except (OSError, ValueError):
        raise closed from None
    text = text.strip()
    if not text:
        raise _UsageError(f"{what}: give it as an argument or on stdin (stdin was empty)")
    return text


def _params(op: _Operation, args: argparse.Namespace, model: str, prompt: str) -> dict[str, Any]:
    """The call's parameters: only the options given go on the wire."""
    params: dict[str, Any] = {"model": model}
    if op.name == "chat":
        messages = []
        if args.system is not None:
            messages.append({"role": "system", "content": args.system})
        messages.append({"role": "user", "content": prompt})
        params["messages"] = messages
    elif op.name == "complete":
        params["prompt"] = prompt
    elif op.name == "message":
        params["messages"] = [{"role": "user", "content": prompt}]
        params["max_tokens"] = args.max_tokens
        if args.system is not None:
            params["system"] = args.system
        if args.temperature is not None:
            params["temperature"] = args.temperature
        return params
    else:
        params["input"] = prompt
        if args.system is not None:
            params["instructions"] = args.system
    if args.temperature is not None:
        params["temperature"] = args.temperature
    if args.max_tokens is not None:
        params["max_output_tokens" if op.name == "respond" else "max_tokens"] = args.max_tokens
    return params


def _call(
    client: R9S, op: _Operation, params: dict[str, Any], args: argparse.Namespace, out: _Out
) -> str:
    """Make one call, print its answer; the answer's text (for a chat's history)."""
    create: Callable[..., Any]
    if op.name == "chat":
        create = client.chat.create
    elif op.name == "complete":
        create = client.completions.create
    elif op.name == "message":
        create = client.messages.create
    else:
        create = client.responses.create
    if not args.stream:
        result = create(**params)
        text = op.result_text(result)
        if args.json:
            out.write(_json_line(result))
        else:
            out.write(text)
            out.write("\n")
        return text
    parts: list[str] = []
    with create(**params, stream=True) as stream:
        events: Iterable[Any] = stream
        for event in events:
            if args.json:
                out.write(_json_line(event))
            delta = op.stream_text(event)
            if delta:
                parts.append(delta)
                if not args.json:
                    out.write(delta)
    if not args.json:
        out.write("\n")
    return "".join(parts)


def _json_line(obj: Any) -> str:
    return json.dumps(obj.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"


def _interactive(client: R9S, args: argparse.Namespace, model: str, out: _Out) -> int:
    """A multi-turn chat on a terminal; see ``_CHAT_HELP``."""
    from r9s.errors import R9SError

    op = _OPERATIONS["chat"]
    history: list[dict[str, str]] = []
    if args.system is not None:
        history.append({"role": "system", "content": args.system})
    _note(f"r9s chat with {model}: Ctrl-D to quit, Ctrl-C to stop an answer")
    while True:
        try:
            sys.stderr.write(PROMPT)
            sys.stderr.flush()
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            _note("")
            return EXIT_INTERRUPTED
        if not line:  # Ctrl-D
            _note("")
            return EXIT_OK
        text = line.strip()
        if not text:
            continue
        messages = [*history, {"role": "user", "content": text}]
        params = _params(op, args, model, text)
        params["messages"] = messages
        try:
            answer = _call(client, op, params, args, out)
        except KeyboardInterrupt:
            out.end_line()
            _note("(answer stopped)")
            continue
        except (R9SError, _CallFailed) as exc:
            out.end_line()
            _error(str(exc))
            continue
        history = [*messages, {"role": "assistant", "content": answer}]


# ----------------------------------------------------------------------------- models, embed


def _models(args: argparse.Namespace, out: _Out) -> int:
    key = _api_key()
    base_url = _base_url(args)
    with _client(key, base_url, args) as client:
        result = client.models.list()
    if args.json:
        out.write(_json_line(result))
        return EXIT_OK
    models = [(str(m.id), str(m.owned_by or ""), m.created) for m in (result.data or [])]
    if not models:
        _note("r9s: the API lists no models")
        return EXIT_OK
    if not args.details:
        for model_id, _, _ in sorted(models, key=lambda m: m[0]):
            out.write(model_id + "\n")
        return EXIT_OK
    id_width = max(len(model_id) for model_id, _, _ in models)
    owner_width = max(len(owner) for _, owner, _ in models)
    for model_id, owner, created in sorted(models, key=lambda m: (m[1], m[0])):
        line = f"{model_id:<{id_width}}  {owner:<{owner_width}}  {_utc_date(created)}"
        out.write(line.rstrip() + "\n")
    return EXIT_OK


def _utc_date(created: object) -> str:
    """A Unix time as an ISO date in UTC, or ``-`` when there is none."""
    import time

    if isinstance(created, bool) or not isinstance(created, int | float):
        return "-"
    try:
        return time.strftime("%Y-%m-%d", time.gmtime(created))
    except (OverflowError, OSError, ValueError):
        return "-"


def _embed(args: argparse.Namespace, out: _Out) -> int:
    texts: list[str] = list(args.texts)
    if any(not text.strip() for text in texts):
        raise _UsageError("no text: an argument is empty")
    key = _api_key()
    base_url = _base_url(args)
    if not texts:
        if _stdin_is_terminal():
            raise _UsageError("no text: r9s embed 'some text' ..., or pipe lines on stdin")
        texts = [line for line in _read_stdin("no text").splitlines() if line.strip()]
    params: dict[str, Any] = {
        "model": args.model,
        "input": texts[0] if len(texts) == 1 else texts,
    }
    if args.dimensions is not None:
        params["dimensions"] = args.dimensions
    with _client(key, base_url, args) as client:
        result = client.embeddings.create(**params)
    if args.json:
        out.write(_json_line(result))
        return EXIT_OK
    items = sorted(result.data or [], key=lambda item: int(item.index or 0))
    width = len(str(max(len(items) - 1, 0)))
    for item in items:
        vector = item.embedding
        if isinstance(vector, str):  # base64 from a server that ignores encoding_format
            out.write(f"{item.index:>{width}}  base64  {vector[:24]}...\n")
            continue
        values = list(vector or [])
        shown = ", ".join(f"{value:.4f}" for value in values[:_SHOWN_VALUES])
        more = ", ..." if len(values) > _SHOWN_VALUES else ""
        out.write(f"{item.index:>{width}}  {len(values)} dims  [{shown}{more}]\n")
    return EXIT_OK


# ----------------------------------------------------------------------------- files


def _text_argument(given: str | None, what: str, command: str) -> str:
    """The text to send: the argument, else stdin (not a terminal)."""
    if given is not None:
        if not given.strip():
            raise _UsageError(f"{what}: the argument is empty")
        return given
    if _stdin_is_terminal():
        raise _UsageError(f"{what}: r9s {command} 'your text', or pipe it on stdin")
    return _read_stdin(what)


class _Progress:
    """Bytes so far on stderr, overwritten in place; only when stderr is a terminal."""

    def __init__(self) -> None:
        stderr = sys.stderr
        try:
            self.active = stderr is not None and stderr.isatty()
        except (OSError, ValueError):
            self.active = False
        self._next = 0.0
        self._width = 0

    def show(self, done: int) -> None:
        if not self.active:
            return
        import time

        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + _PROGRESS_EVERY
        line = f"\r{_size(done)} ..."
        self._width = max(self._width, len(line))
        self._write(line)

    def clear(self) -> None:
        if self.active and self._width:
            self._write("\r" + " " * self._width + "\r")
            self._width = 0

    @staticmethod
    def _write(text: str) -> None:
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def _size(count: int) -> str:
    """A byte count for people: ``5008 bytes``, ``1.5 MB``."""
    if count < 10_000:
        return f"{count} bytes"
    if count < 10_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"


def _remove_partial(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _speak(args: argparse.Namespace, out: _Out) -> int:
    text = _text_argument(args.text, "no text", "speak")
    key = _api_key()
    base_url = _base_url(args)
    target: str = args.output
    if not target:
        raise _UsageError("no output: pass -o FILE (or -o - for stdout)")
    fmt = args.format
    if fmt is None:
        extension = os.path.splitext(target)[1].lower().lstrip(".")
        fmt = extension if extension in _AUDIO_FORMATS else "mp3"
    params: dict[str, Any] = {"model": args.model, "input": text, "voice": args.voice}
    if fmt != "mp3" or args.format is not None:
        params["response_format"] = fmt
    if args.speed is not None:
        params["speed"] = args.speed
    progress = _Progress()
    with _client(key, base_url, args) as client, client.audio.speech(**params) as speech:
        if target == "-":
            written = _audio_to_stdout(speech, progress)
            where = "stdout"
        else:
            written = _audio_to_file(speech, target, progress)
            where = target
    _note(f"r9s: wrote {written} bytes ({fmt}) to {where}")
    return EXIT_OK


def _audio_to_file(speech: Any, path: str, progress: _Progress) -> int:
    """Write the body to ``path`` (``stream_to_file``; a loop showing progress on a terminal);
    a failed or interrupted download removes the file."""
    try:
        if not progress.active:
            written: int = speech.stream_to_file(path)
            return written
        written = 0
        with open(path, "wb") as file:
            for piece in speech.iter_bytes():
                file.write(piece)
                written += len(piece)
                progress.show(written)
        return written
    except OSError as exc:
        _remove_partial(path)
        raise _CallFailed(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove_partial(path)
        raise
    finally:
        progress.clear()


def _audio_to_stdout(speech: Any, progress: _Progress) -> int:
    stdout = sys.stdout
    if stdout is None:
        raise _OutputClosed
    sink = stdout.buffer
    written = 0
    try:
        for piece in speech.iter_bytes():
            sink.write(piece)
            written += len(piece)
            progress.show(written)
        sink.flush()
    except BrokenPipeError:
        raise _OutputClosed from None
    finally:
        progress.clear()
    return written


def _transcribe(args: argparse.Namespace, out: _Out) -> int:
    path: str = args.file
    if not os.path.isfile(path):
        problem = "is a directory" if os.path.isdir(path) else "no such file"
        raise _UsageError(f"cannot read {path!r}: {problem}")
    key = _api_key()
    base_url = _base_url(args)
    from pathlib import Path

    params: dict[str, Any] = {"file": Path(path), "model": args.model}
    for name in ("language", "prompt"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    if args.format is not None:
        params["response_format"] = args.format
    with _client(key, base_url, args) as client:
        result = client.audio.transcribe(**params)
    if isinstance(result, str):
        if args.json:
            out.write(json.dumps({"text": result}, ensure_ascii=False) + "\n")
        else:
            out.write(result if result.endswith("\n") else result + "\n")
        return EXIT_OK
    if args.json:
        out.write(_json_line(result))
    else:
        out.write(str(result.text or "") + "\n")
    return EXIT_OK


def _image_paths(output: str, count: int) -> list[str]:
    """``out.png`` for one image; ``out-1.png``, ``out-2.png`` ... for several."""
    if count == 1:
        return [output]
    stem, extension = os.path.splitext(output)
    return [f"{stem}-{i}{extension or '.png'}" for i in range(1, count + 1)]


def _image(args: argparse.Namespace, out: _Out) -> int:
    prompt = _text_argument(args.prompt, "no prompt", "image")
    if args.output is None and not args.json:
        raise _UsageError("no output: pass -o FILE (or --json to print the result)")
    key = _api_key()
    base_url = _base_url(args)
    params: dict[str, Any] = {"prompt": prompt, "response_format": IMAGE_FORMAT}
    if args.model is not None:
        params["model"] = args.model
    if args.size is not None:
        params["size"] = args.size
    if args.n is not None:
        params["n"] = args.n
    import base64
    import binascii

    with _client(key, base_url, args) as client:
        result = client.images.create(**params)
    if args.json:
        out.write(_json_line(result))
    if args.output is None:
        return EXIT_OK
    items = list(result.data or [])
    if not items:
        raise _CallFailed("the API answered with no image")
    images: list[bytes] = []
    for item in items:
        if not isinstance(item.b64_json, str):
            where = f" (only a URL: {item.url})" if isinstance(item.url, str) else ""
            raise _CallFailed(f"the API answered without the image's bytes{where}")
        try:
            images.append(base64.b64decode(item.b64_json, validate=True))
        except (binascii.Error, ValueError):
            raise _CallFailed("the API answered with an image that is not valid base64") from None
    for path, data in zip(_image_paths(args.output, len(images)), images, strict=True):
        try:
            with open(path, "wb") as file:
                file.write(data)
        except OSError as exc:
            _remove_partial(path)
            raise _CallFailed(f"cannot write {path}: {exc.strerror or exc}") from None
        _note(f"r9s: wrote {len(data)} bytes to {path}")
    return EXIT_OK


# ----------------------------------------------------------------------------- output


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error(message: str) -> None:
    _note(f"r9s: error: {_one_line(message)}")


def _note(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _end_line_quietly(out: _Out) -> None:
    try:
        out.end_line()
    except _OutputClosed:
        silence_stdout()


def silence_stdout() -> None:
    """Point stdout at the null device, so that the flush at exit cannot fail again.

    The recipe of the Python docs for SIGPIPE (``signal`` module, "Note on SIGPIPE").
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
