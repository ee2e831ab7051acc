"""The ``r9s`` command: ``chat``, ``complete``, ``respond``, ``message``, ``models``, ``embed``,
``speak``, ``transcribe``, ``image``, ``demo``, ``serve`` (stdlib only).

The API commands call the API with the sync client; their logic is in ``r9s.cli`` (loaded when
``main`` runs, so ``import r9s`` stays light).

``r9s demo`` starts the built-in OpenAI-compatible server on 127.0.0.1 and runs chat,
completions and responses (streamed and not), lists the models, makes one embedding, saves a
speech file in a temporary directory and transcribes it back, and streams a message (the
Anthropic Messages API) through the sync client, so a fresh install can be checked with no key
and no network.  ``r9s serve`` runs that server until interrupted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from r9s import R9S
    from r9s.testing import FakeServer

    out = sys.stdout
    with FakeServer() as server, R9S(api_key="demo-key", server_url=server.url) as client:
        out.write(f"r9s demo against the built-in server at {server.url}\n\n")
        messages = [{"role": "user", "content": "Hello, how are you?"}]

        out.write("chat.create, streamed: ")
        with client.chat.create(model="gpt-4o-mini", messages=messages, stream=True) as stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    out.write(chunk.choices[0].delta.content)
                    out.flush()
        out.write("\n")
        res = client.chat.create(model="gpt-4o-mini", messages=messages)
        tokens = res.usage.total_tokens if res.usage else "?"
        out.write(f"chat.create: {res.choices[0].message.content!r} ({tokens} tokens)\n")

        out.write("completions.create, streamed: ")
        for part in client.completions.create(
            model="gpt-4o-mini", prompt="Once upon a time", max_tokens=12, stream=True
        ):
            if part.choices:
                out.write(part.choices[0].text)
                out.flush()
        out.write("\n")

        out.write("responses.create, streamed: ")
        for event in client.responses.create(
            model="gpt-4o-mini", input="Tell me a joke about programming", stream=True
        ):
            if event.type == "response.output_text.delta":
                out.write(event.delta)
                out.flush()
        out.write("\n")
        resp = client.responses.create(model="gpt-4o-mini", input="Tell me a joke")
        out.write(f"responses.create: {resp.output_text!r}\n")

        models = client.models.list()
        ids = [model.id for model in models.data]
        shown = ", ".join(ids[:4]) + (", ..." if len(ids) > 4 else "")
        out.write(f"models.list: {shown} ({len(ids)} models)\n")
        emb = client.embeddings.create(
            model="text-embedding-3-small", input="The food was delicious."
        )
        vector = emb.data[0].embedding
        values = ", ".join(f"{value:.4f}" for value in vector[:4])
        tokens = emb.usage.prompt_tokens if emb.usage else "?"
        out.write(
            f"embeddings.create: {len(vector)} dimensions [{values}, ...] ({tokens} tokens)\n"
        )

        spoken = "The quick brown fox jumps over the lazy dog."
        with tempfile.TemporaryDirectory(prefix="r9s-demo-") as folder:
            path = Path(folder) / "speech.mp3"
            with client.audio.speech(model="tts-1", input=spoken, voice="alloy") as speech:
                size = speech.stream_to_file(path)
            kind = speech.headers.get("content-type")
            out.write(f"audio.speech: saved {size} bytes of {kind} as {path.name}\n")
            heard = client.audio.transcribe(file=path, model="whisper-1")
        text = heard if isinstance(heard, str) else heard.text
        verdict = "round trip: same text" if text == spoken else "round trip: DIFFERENT text"
        out.write(f"audio.transcribe: {text!r} ({verdict})\n")

        out.write("messages.create, streamed: ")
        claude = [{"role": "user", "content": "Hello, Claude!"}]
        with client.messages.create(
            model="claude-haiku-4.5", messages=claude, max_tokens=256, stream=True
        ) as events:
            for delta in events.text_deltas():
                out.write(delta)
                out.flush()
        out.write("\n")
        served = len(server.requests)
        out.write(f"\n{server.connections_opened} connection(s) served {served} requests.\n")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from r9s.testing import main as serve_main

    argv = ["--host", args.host, "--port", str(args.port)]
    if args.api_key:
        argv += ["--api-key", args.api_key]
    if args.models is not None:
        argv += ["--models", args.models]
    return serve_main(argv)


def main(argv: list[str] | None = None) -> int:
    from r9s import cli

    parser = argparse.ArgumentParser(prog="r9s", description="The r9s SDK's command line.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)
    cli.add_commands(sub)
    demo = sub.add_parser(
        "demo",
        help="run chat, completions, responses, models, embeddings, speech and transcription, "
        "and messages on a local server",
    )
    demo.set_defaults(func=_demo)
    serve = sub.add_parser("serve", help="run the built-in OpenAI-compatible test server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--api-key", default=None)
    serve.add_argument(
        "--models",
        default=None,
        metavar="NAMES",
        help="comma-separated model names to serve (and list); others get 404 model_not_found",
    )
    serve.set_defaults(func=_serve)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        cli.silence_stdout()
        return 0


def _version() -> str:
    from r9s import __version__

    return f"r9s {__version__}"


if __name__ == "__main__":
    sys.exit(main())
