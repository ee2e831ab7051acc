"""The test server's streaming multipart parser, fed bytes directly (no sockets).

Why: the server reports what it read of an upload (names, filenames, types, sizes, SHA-256,
order) and the SDK's tests rely on that report byte for byte, whatever the pieces the body
arrives in.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import os

import pytest
from _fake_wire import Form as Body

from r9s.testing._multipart import (
    FILE_PREFIX,
    MAX_FIELD,
    MAX_PART_HEAD,
    Form,
    FormError,
    FormParser,
    boundary_of,
)

BOUNDARY = "r9s-test-boundary-0123456789"


def parse(data: bytes, pieces: list[int] | None = None, boundary: str = BOUNDARY) -> Form:
    """Feed ``data`` cut at the given sizes (the rest in one piece)."""
    parser = FormParser(boundary)
    at = 0
    for size in pieces or []:
        parser.feed(data[at : at + size])
        at += size
    parser.feed(data[at:])
    return parser.result()


def sample() -> Body:
    return (
        Body()
        .field("model", "whisper-1")
        .field("prompt", "Zürich, «quoted» - ok")
        .field("timestamp_granularities", "word")
        .field("timestamp_granularities", "segment")
        .file("file", "speech.mp3", b"ID3\x00\r\n--not-a-boundary\r\n" * 40, "audio/mpeg")
        .file("mask", "m.png", b"", None)
    )


def test_reads_fields_files_and_order() -> None:
    body = sample()
    form = parse(body.body())
    assert form.received() == body.received()
    assert form.size == len(body.body())
    assert form.field("prompt") == "Zürich, «quoted» - ok"
    assert form.values("timestamp_granularities") == ["word", "segment"]
    (file,) = form.files("file")
    assert bytes(file.data) == b"ID3\x00\r\n--not-a-boundary\r\n" * 40


def test_every_split_gives_the_same_form() -> None:
    data = sample().body()
    whole = parse(data).received()
    for cut in range(1, len(data)):
        assert parse(data, [cut]).received() == whole, cut
    assert parse(data, [1] * len(data)).received() == whole


def test_agrees_with_the_email_parser() -> None:
    data = sample().body()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n".encode() + data
    )
    theirs = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        theirs.append((part.get_param("name", header="content-disposition"), payload))
    ours = parse(data)
    assert [(p.name, p.sha256) for p in ours.parts] == [
        (name, hashlib.sha256(payload).hexdigest()) for name, payload in theirs
    ]


def test_quoted_names_and_non_ascii_filenames() -> None:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="a\\"b\\\\c"; filename="naïve %22x%22.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    data = head + b"RIFF" + f"\r\n--{BOUNDARY}--".encode()
    (part,) = parse(data).parts
    assert part.name == 'a"b\\c'
    assert part.filename == "naïve %22x%22.wav"
    assert part.content_type == "audio/wav"
    assert part.size == 4


def test_preamble_padding_and_epilogue() -> None:
    data = (
        f"ignored preamble\r\n--{BOUNDARY}  \t\r\n"
        'Content-Disposition: form-data; name="x"\r\n\r\nvalue'
        f"\r\n--{BOUNDARY}--\r\nignored epilogue"
    ).encode()
    assert parse(data).fields() == {"x": "value"}


def test_large_file_is_hashed_not_kept() -> None:
    content = os.urandom(3 * 1024 * 1024 + 17)
    body = Body().field("model", "m").file("file", "big.bin", content, "application/octet-stream")
    data = body.body()
    pieces = [7, 65536, 1, 100_000, 3]
    form = parse(data, pieces * 40)
    (file,) = form.files()
    assert file.size == len(content)
    assert file.sha256 == hashlib.sha256(content).hexdigest()
    assert bytes(file.data) == content[:FILE_PREFIX]


@pytest.mark.parametrize("step", [1, 2, 3, 5, 17, 31, 32, 33, 64, 1000])
def test_near_miss_delimiters_stay_content(step: int) -> None:
    tricky = f"\r\n--{BOUNDARY[:-1]}X\r\n--{BOUNDARY[:5]}".encode() + b"\r\n-"
    body = Body().file("f", "t", tricky * 3, "text/plain").field("after", "x")
    data = body.body()
    form = parse(data, [step] * (len(data) // step))
    assert form.files()[0].sha256 == hashlib.sha256(tricky * 3).hexdigest()
    assert form.received() == body.received()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"no boundary here at all", "never occurs"),
        (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=x\r\n\r\nv".encode(),
            "ends before",
        ),
        (
            f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nv\r\n--{BOUNDARY}--".encode(),
            "no Content-Disposition",
        ),
        (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--{BOUNDARY}--".encode(),
            "no name",
        ),
        (
            f"--{BOUNDARY}\r\nContent-Disposition: attachment; name=x\r\n\r\n\r\n--{BOUNDARY}--".encode(),
            "not form-data",
        ),
        (f"--{BOUNDARY}\r\n\r\nv\r\n--{BOUNDARY}--".encode(), "no headers"),
        (f"--{BOUNDARY}\r\nbroken header\r\n\r\nv\r\n--{BOUNDARY}--".encode(), "malformed header"),
        (f"--{BOUNDARY}junk\r\n".encode(), "followed by other text"),
        (f"--{BOUNDARY}\r\nX: {'y' * MAX_PART_HEAD}".encode(), "header block"),
        (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=big\r\n\r\n".encode()
            + b"x" * (MAX_FIELD + 1),
            "larger than",
        ),
        (b"p" * 200_000 + f"\r\n--{BOUNDARY}".encode(), "does not start with"),
    ],
)
def test_malformed_bodies_say_why(data: bytes, needle: str) -> None:
    parser = FormParser(BOUNDARY)
    parser.feed(data)
    parser.feed(b"more bytes after the error are only counted")
    with pytest.raises(FormError, match=needle):
        parser.result()
    assert parser.size == len(data) + 43


def test_boundary_of() -> None:
    assert boundary_of("multipart/form-data; boundary=abc") == "abc"
    assert boundary_of('Multipart/Form-Data;charset=utf-8; boundary="a b;c"') == "a b;c"
    assert boundary_of("multipart/form-data") is None
    assert boundary_of("multipart/form-data; boundary=") is None
    assert boundary_of(f"multipart/form-data; boundary={'x' * 71}") is None
    assert boundary_of("application/json; boundary=abc") is None
