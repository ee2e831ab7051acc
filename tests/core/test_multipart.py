"""The multipart/form-data encoder and the streamed-body plumbing of the core: no sockets.

Every body built here is read back with the standard library's MIME parser (``email``), which
knows nothing of our encoder: what it finds is what a server would find.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import os
import threading
import tracemalloc
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from r9s._core.headers import Headers
from r9s._core.multipart import CHUNK_SIZE, FilePart, MultipartBody
from r9s._core.request import (
    BodyReadError,
    IterableBody,
    Request,
    StreamedBody,
    body_bytes,
    can_resend,
    checked_pieces,
    is_streamed,
)

BOUNDARY = "test-boundary-0123456789"


def parse(body: MultipartBody) -> list[EmailMessage]:
    """The parts of ``body`` as the ``email`` package reads them."""
    raw = b"".join(body.pieces())
    assert body.length is None or len(raw) == body.length
    head = f"Content-Type: {body.content_type}\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    assert msg.is_multipart()
    assert not msg.defects, msg.defects
    parts = list(msg.iter_parts())
    for part in parts:
        assert not part.defects, part.defects
    return parts  # type: ignore[return-value]


def name_of(part: EmailMessage) -> str | None:
    value = part.get_param("name", header="content-disposition")
    assert value is None or isinstance(value, str)
    return value


def payload(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


def summary(body: MultipartBody) -> list[tuple[str | None, str | None, str, bytes]]:
    return [(name_of(p), p.get_filename(), p.get_content_type(), payload(p)) for p in parse(body)]


# -- text fields -------------------------------------------------------------------------------


def test_text_fields_of_every_scalar_kind() -> None:
    body = MultipartBody(
        [
            ("model", "whisper-1"),
            ("prompt", "line one\r\nline two\n--not a boundary"),
            ("n", 2),
            ("temperature", 0.25),
            ("stream", True),
            ("echo", False),
            ("zero", 0),
            ("raw", b"\x00\xffbytes"),
            ("unicode", "héllo ✓"),
            ("empty", ""),
        ]
    )
    assert summary(body) == [
        ("model", None, "text/plain", b"whisper-1"),
        ("prompt", None, "text/plain", b"line one\r\nline two\n--not a boundary"),
        ("n", None, "text/plain", b"2"),
        ("temperature", None, "text/plain", b"0.25"),
        ("stream", None, "text/plain", b"true"),
        ("echo", None, "text/plain", b"false"),
        ("zero", None, "text/plain", b"0"),
        ("raw", None, "text/plain", b"\x00\xffbytes"),
        ("unicode", None, "text/plain", "héllo ✓".encode()),
        ("empty", None, "text/plain", b""),
    ]


def test_lists_repeat_the_field_and_none_is_left_out() -> None:
    body = MultipartBody(
        {
            "timestamp_granularities": ["word", "segment"],
            "language": None,
            "ids": (1, None, 3),
            "model": "m",
        }
    )
    assert [(name_of(p), payload(p)) for p in parse(body)] == [
        ("timestamp_granularities", b"word"),
        ("timestamp_granularities", b"segment"),
        ("ids", b"1"),
        ("ids", b"3"),
        ("model", b"m"),
    ]


def test_exact_bytes_on_the_wire() -> None:
    body = MultipartBody(
        [("model", "m"), ("file", {"file_name": "a.wav", "content": b"RIFF"})], boundary="b0"
    )
    assert b"".join(body.pieces()) == (
        b'--b0\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n'
        b'--b0\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        b"Content-Type: audio/x-wav\r\n\r\nRIFF\r\n"
        b"--b0--\r\n"
    )
    assert body.content_type == "multipart/form-data; boundary=b0"


def test_no_fields_is_just_the_closing_delimiter() -> None:
    body = MultipartBody([], boundary="b")
    assert b"".join(body.pieces()) == b"--b--\r\n"
    assert body.length == 7


# -- files -------------------------------------------------------------------------------------


def test_file_from_bytes_in_the_published_packages_shape() -> None:
    content = os.urandom(5000) + b"\r\n--\r\n\r\n"
    body = MultipartBody(
        [
            ("file", {"file_name": "speech.mp3", "content": content}),
            ("mask", {"file_name": "mask.bin", "content": b"m", "content_type": "image/png"}),
        ]
    )
    assert body.rewindable and body.length is not None
    assert summary(body) == [
        ("file", "speech.mp3", "audio/mpeg", content),
        ("mask", "mask.bin", "image/png", b"m"),
    ]


def test_file_from_an_object_with_file_name_and_content() -> None:
    class File:  # the published package's pydantic File, as far as the encoder cares
        def __init__(self) -> None:
            self.file_name = "x.png"
            self.content = b"\x89PNG"
            self.content_type = None

    assert summary(MultipartBody([("image", File())])) == [
        ("image", "x.png", "image/png", b"\x89PNG")
    ]


def test_file_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "clip.flac"
    content = os.urandom(3 * CHUNK_SIZE + 17)
    path.write_bytes(content)
    body = MultipartBody([("model", "m"), ("file", path)])
    assert body.rewindable
    assert summary(body) == [
        ("model", None, "text/plain", b"m"),
        ("file", "clip.flac", "audio/flac", content),
    ]


def test_file_part_overrides_name_and_type(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"abc")
    body = MultipartBody(
        [("file", FilePart(path, filename="renamed.txt", content_type="text/csv; charset=utf-8"))]
    )
    [part] = parse(body)
    assert part.get_filename() == "renamed.txt"
    assert part.get_content_type() == "text/csv"
    assert part.get_param("charset") == "utf-8"
    assert b"Content-Type: text/csv; charset=utf-8\r\n" in b"".join(body.pieces())
    assert payload(part) == b"abc"


def test_unknown_extension_is_octet_stream(tmp_path: Path) -> None:
    path = tmp_path / "blob.r9s-unknown"
    path.write_bytes(b"?")
    [(_, filename, ctype, _)] = summary(MultipartBody([("file", path)]))
    assert (filename, ctype) == ("blob.r9s-unknown", "application/octet-stream")


def test_open_file_is_read_from_its_current_offset(tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(b"HEADER" + b"x" * 100_000)
    with open(path, "rb") as f:
        f.seek(6)
        body = MultipartBody([("file", f)])
        assert body.length is not None and body.rewindable
        assert summary(body) == [("file", "a.mp3", "audio/mpeg", b"x" * 100_000)]
        # Rewinding goes back to offset 6, not to 0.
        again = b"".join(body.pieces())
        assert again == b"".join(body.pieces())
        assert b"HEADER" not in again


def test_bytesio_without_a_name_is_called_upload() -> None:
    body = MultipartBody([("file", io.BytesIO(b"12345"))])
    assert body.rewindable and body.length is not None
    assert summary(body) == [("file", "upload", "application/octet-stream", b"12345")]


def test_empty_files(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    body = MultipartBody(
        [
            ("a", path),
            ("b", {"file_name": "e.bin", "content": b""}),
            ("c", io.BytesIO(b"")),
            ("d", "after"),
        ]
    )
    assert [(n, f, c) for n, f, _, c in summary(body)] == [
        ("a", "empty.wav", b""),
        ("b", "e.bin", b""),
        ("c", "upload", b""),
        ("d", None, b"after"),
    ]


def test_several_files_under_one_name() -> None:
    body = MultipartBody(
        [
            ("image[]", [FilePart(b"one", "1.png"), {"file_name": "2.png", "content": b"two"}]),
            ("prompt", "p"),
        ]
    )
    assert [(n, f, c) for n, f, _, c in summary(body)] == [
        ("image[]", "1.png", b"one"),
        ("image[]", "2.png", b"two"),
        ("prompt", None, b"p"),
    ]


def test_large_bytes_content_is_sliced() -> None:
    content = os.urandom(5 * CHUNK_SIZE + 3)
    body = MultipartBody([("file", FilePart(content, "big.bin"))])
    pieces = list(body.pieces())
    assert max(len(p) for p in pieces) <= CHUNK_SIZE + 512
    assert summary(body)[0][3] == content


@pytest.mark.parametrize(
    "filename",
    ["héllo wörld.mp3", "日本語の音声.wav", "emoji 🎤.m4a", "ascii only.ogg"],
)
def test_non_ascii_filenames_go_out_as_utf8(filename: str) -> None:
    body = MultipartBody([("file", FilePart(b"x", filename))])
    raw = b"".join(body.pieces())
    assert b'filename="' + filename.encode("utf-8") + b'"' in raw
    [(_, parsed, _, content)] = summary(body)
    assert (parsed, content) == (filename, b"x")


# -- hostile names and filenames ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "parsed"),
    [
        ('evil".sh', "evil%22.sh"),
        ('x"; name="other', "x%22; name=%22other"),
        ('x"; filename="evil.sh', "x%22; filename=%22evil.sh"),
        ("back\\slash", "back\\slash"),
        ("ends with \\", "ends with \\"),
        ('\\"', "\\%22"),
        ("tab\there", "tab%09here"),
        ("esc\x1bkept", "esc\x1bkept"),
    ],
)
def test_quotes_and_backslashes_are_escaped(filename: str, parsed: str) -> None:
    body = MultipartBody([("file", FilePart(b"content", filename)), ("after", "a")])
    parts = parse(body)
    assert len(parts) == 2  # never an extra part
    assert parts[0].get_filename() == parsed
    assert name_of(parts[0]) == "file"
    assert payload(parts[0]) == b"content"
    assert (name_of(parts[1]), payload(parts[1])) == ("after", b"a")
    # The whole Content-Disposition is one line and the part has exactly two header fields.
    assert sorted(k.lower() for k in parts[0].keys()) == ["content-disposition", "content-type"]


@pytest.mark.parametrize(
    "bad",
    [
        "a\r\nContent-Type: text/html",
        "a\rb",
        "a\nb",
        "nul\x00.mp3",
        'x"\r\n\r\n--boundary\r\nContent-Disposition: form-data; name="evil"',
    ],
)
def test_cr_lf_nul_in_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        MultipartBody([("file", FilePart(b"x", bad))])
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        MultipartBody([(bad, "value")])
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        MultipartBody([("file", {"file_name": bad, "content": b"x"})])


def test_hostile_field_name_is_escaped() -> None:
    parts = parse(MultipartBody([('a"; filename="x.sh', "v")]))
    assert len(parts) == 1
    assert name_of(parts[0]) == "a%22; filename=%22x.sh"
    assert parts[0].get_filename() is None


@pytest.mark.parametrize("bad", ["text/plain\r\nX-Evil: 1", "a\nb", "a\x00"])
def test_content_type_with_cr_lf_nul_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        MultipartBody([("file", FilePart(b"x", "a.txt", content_type=bad))])


def test_text_value_cannot_end_its_part() -> None:
    # A value holding the boundary: a given boundary is refused, a random one is redrawn.
    with pytest.raises(ValueError, match="occurs in the content"):
        MultipartBody([("v", f"x\r\n--{BOUNDARY}--\r\n")], boundary=BOUNDARY)
    with pytest.raises(ValueError, match="occurs in the content"):
        MultipartBody([("f", FilePart(b"--" + BOUNDARY.encode(), "f"))], boundary=BOUNDARY)


def test_random_boundary_is_redrawn_when_the_content_holds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws = iter([b"\x11" * 16, b"\x22" * 16])
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))
    clash = ("11" * 16).encode()
    body = MultipartBody([("v", b"--" + clash), ("w", "x")])
    assert body.boundary == "22" * 16
    assert [payload(p) for p in parse(body)] == [b"--" + clash, b"x"]


def test_random_boundaries_are_32_hex_digits_and_differ() -> None:
    a, b = MultipartBody([]).boundary, MultipartBody([]).boundary
    assert a != b
    for boundary in (a, b):
        assert len(boundary) == 32 and int(boundary, 16) >= 0


@pytest.mark.parametrize("bad", ["", "x" * 71, "has space", 'quote"', "é"])
def test_invalid_given_boundary(bad: str) -> None:
    with pytest.raises(ValueError, match="boundary"):
        MultipartBody([], boundary=bad)


# -- what cannot be sent -----------------------------------------------------------------------


def test_values_that_cannot_be_sent(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="list inside a list"):
        MultipartBody([("x", [["a"]])])
    with pytest.raises(TypeError, match="a file mapping has the keys"):
        MultipartBody([("x", {"a": 1})])
    with pytest.raises(TypeError, match="cannot send a object"):
        MultipartBody([("x", object())])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="keys 'file_name', 'content'"):
        MultipartBody([("x", {"file_name": "a", "content": b"", "fileName": "a"})])
    with pytest.raises(TypeError, match="binary mode"):
        with open(tmp_path / "t.txt", "w+") as text:
            MultipartBody([("x", text)])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="content must be bytes"):
        MultipartBody([("x", FilePart("a str is not content", "a.txt"))])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        MultipartBody([("x", FilePart(b"", ""))])
    with pytest.raises(FileNotFoundError):
        MultipartBody([("x", tmp_path / "missing.wav")])
    with pytest.raises(IsADirectoryError):
        MultipartBody([("x", tmp_path)])
    with pytest.raises(TypeError, match="field name"):
        MultipartBody([(1, "x")])  # type: ignore[list-item]


def test_a_str_is_text_never_a_path(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_bytes(b"file content")
    [part] = parse(MultipartBody([("file", str(path))]))
    assert part.get_filename() is None
    assert payload(part) == str(path).encode()


# -- rewinding ---------------------------------------------------------------------------------


def test_rewind_gives_identical_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.mp3"
    path.write_bytes(os.urandom(200_000))
    with open(path, "rb") as f:
        f.seek(1000)
        body = MultipartBody(
            [
                ("model", "m"),
                ("a", path),
                ("b", f),
                ("c", io.BytesIO(os.urandom(70_000))),
                ("d", FilePart(os.urandom(100_000), "d.bin")),
            ]
        )
        assert body.rewindable and can_resend(body)
        first = b"".join(body.pieces())
        second = b"".join(body.pieces())
        # Half an iteration, abandoned, then a whole one.
        partial = body.pieces()
        next(partial)
        next(partial)
        partial.close()  # type: ignore[attr-defined]
        third = b"".join(body.pieces())
    assert first == second == third
    assert len(first) == body.length


class _ReadOnly:
    """A file-like object that can only be read: no seek, no tell (a socket file, a stream)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._data.read(n)


def test_object_without_seek_is_not_rewindable() -> None:
    body = MultipartBody([("file", _ReadOnly(b"stream data"))])
    assert body.length is None and not body.rewindable and not can_resend(body)
    assert summary(body) == [("file", "upload", "application/octet-stream", b"stream data")]
    with pytest.raises(BodyReadError, match="cannot be rewound"):
        body.pieces()


def test_pipe_is_not_rewindable() -> None:
    r, w = os.pipe()
    data = os.urandom(300_000)

    def write() -> None:
        with open(w, "wb") as f:
            f.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        with open(r, "rb") as f:
            body = MultipartBody([("file", FilePart(f, "live.pcm"))])
            assert body.length is None and not body.rewindable
            raw = b"".join(body.pieces())
    finally:
        writer.join(5)
    assert not writer.is_alive()
    assert data in raw
    with pytest.raises(BodyReadError):
        body.pieces()


def test_fifo_path_is_read_once_with_unknown_length(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = os.urandom(100_000)

    def write() -> None:
        with open(fifo, "wb") as f:
            f.write(data)

    body = MultipartBody([("file", fifo)])
    assert body.length is None and not body.rewindable
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        assert summary(body)[0][3] == data
    finally:
        writer.join(5)
    assert not writer.is_alive()


# -- files that change -------------------------------------------------------------------------


def test_file_that_shrank_or_grew_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    path.write_bytes(b"x" * 1000)
    body = MultipartBody([("file", path)])
    path.write_bytes(b"x" * 10)
    with pytest.raises(BodyReadError, match="10 bytes now, 1000"):
        b"".join(body.pieces())
    path.unlink()
    with pytest.raises(BodyReadError, match="cannot open the file"):
        b"".join(body.pieces())

    data = io.BytesIO(b"y" * 1000)
    body = MultipartBody([("file", data)])
    data.seek(0, io.SEEK_END)
    data.write(b"more")  # the file grew
    with pytest.raises(BodyReadError, match="grew"):
        b"".join(body.pieces())
    data.truncate(500)
    with pytest.raises(BodyReadError, match="ended after 500 of 1000"):
        b"".join(body.pieces())


def test_closed_file_is_an_error() -> None:
    f = io.BytesIO(b"abc")
    body = MultipartBody([("file", f)])
    f.close()
    with pytest.raises(BodyReadError, match="seek"):
        b"".join(body.pieces())


# -- memory ------------------------------------------------------------------------------------


def test_large_file_through_a_path_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.mp3"
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(8):
            f.write(block[:-1] + bytes([i]))
    size = path.stat().st_size
    body = MultipartBody([("model", "whisper-1"), ("file", path), ("language", "en")])
    assert body.length is not None and body.length > size
    digest = hashlib.sha256()
    total = 0
    largest = 0
    tracemalloc.start()
    try:
        for piece in body.pieces():
            total += len(piece)
            largest = max(largest, len(piece))
            digest.update(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == body.length
    assert largest <= CHUNK_SIZE + 512
    assert peak < 1 << 20, f"peak {peak} bytes while streaming {size} bytes"
    # The file's bytes are all there, in order: check against a body read whole.
    whole = b"".join(body.pieces())
    assert hashlib.sha256(whole).digest() == digest.digest()
    with open(path, "rb") as f:
        assert f.read() in whole


# -- the streamed-body plumbing (r9s._core.request) --------------------------------------------


def test_multipart_body_is_a_streamed_body() -> None:
    body = MultipartBody([("a", "b")])
    assert isinstance(body, StreamedBody)
    assert is_streamed(body)
    assert not is_streamed(b"x")
    assert can_resend(b"x")
    request = Request("POST", "http://h/v1/audio/transcriptions", Headers(), body)
    assert f"a streamed body of {body.length} bytes" in repr(request)
    assert "3 bytes" in repr(Request("POST", "http://h/", Headers(), b"abc"))
    assert "streamed body)" in repr(Request("POST", "http://h/", Headers(), IterableBody([])))


def test_checked_pieces_counts_and_frames() -> None:
    assert list(checked_pieces(IterableBody([b"ab", b"", b"c"], length=3))) == [b"ab", b"c"]
    assert list(checked_pieces(IterableBody([b"ab", b"c" * 20]), chunked=True)) == [
        b"2\r\nab\r\n",
        b"14\r\n" + b"c" * 20 + b"\r\n",
        b"0\r\n\r\n",
    ]
    assert list(checked_pieces(IterableBody([]), chunked=True)) == [b"0\r\n\r\n"]
    odd: list[Any] = [b"a", bytearray(b"b"), memoryview(b"c")]
    assert body_bytes(IterableBody(odd)) == b"abc"
    assert body_bytes(b"xyz") == b"xyz"


def test_checked_pieces_never_yields_past_the_declared_length() -> None:
    got: list[bytes] = []
    with pytest.raises(BodyReadError, match="more than its declared 5 bytes"):
        for piece in checked_pieces(IterableBody([b"abc", b"def"], length=5)):
            got.append(piece)
    assert got == [b"abc"]
    with pytest.raises(BodyReadError, match="ended after 3 of its declared 5 bytes"):
        list(checked_pieces(IterableBody([b"abc"], length=5)))


def test_checked_pieces_wraps_source_errors_and_closes_the_source() -> None:
    closed = []

    def source() -> Iterator[bytes]:
        try:
            yield b"abc"
            raise OSError("disk on fire")
        finally:
            closed.append(True)

    with pytest.raises(BodyReadError, match="failed after 3 bytes: disk on fire") as info:
        list(checked_pieces(IterableBody(source())))
    assert isinstance(info.value.__cause__, OSError)
    assert closed == [True]

    # Abandoned midway (a send failed): the source is closed too.
    closed.clear()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            closed.append(True)

    pieces = checked_pieces(IterableBody(endless()))
    next(pieces)
    pieces.close()
    assert closed == [True]

    with pytest.raises(BodyReadError, match="must be bytes"):
        list(checked_pieces(IterableBody(["text"])))  # type: ignore[list-item]


def test_iterable_body_is_sent_once() -> None:
    body = IterableBody([b"a"], length=1)
    assert not body.rewindable and not can_resend(body)
    assert body_bytes(body) == b"a"
    with pytest.raises(BodyReadError, match="cannot be rewound"):
        body_bytes(body)
    with pytest.raises(ValueError):
        IterableBody([], length=-1)


def test_non_rewindable_multipart_refuses_a_second_send_via_checked_pieces() -> None:
    body = MultipartBody([("file", _ReadOnly(b"once"))])
    assert b"once" in body_bytes(body)
    with pytest.raises(BodyReadError):
        body_bytes(body)
