"""Images and audio for the test server: generations, edits, speech, transcriptions.

Why: the SDK's file operations need a peer that answers with real (if tiny) files, checks the
multipart uploads it receives byte for byte, and can send a speech body of any size up to
1 GiB without building it.  Like ``_openai`` this module does no I/O; its answers are JSON,
``TextBody`` (text formats), ``BinaryBody`` (audio: chunks made as they are sent) or an
``SseStream`` (partial-image streams).

Images (``POST /v1/images/generations``, JSON; ``/v1/images/edits``, multipart): ``n`` PNG
images, each a valid PNG of at most 64x64 pixels (``size`` scaled down to fit, ``auto``:
64x64): a colour gradient seeded from the prompt, the model, the image's index and, for an
edit, the SHA-256 of every uploaded file; a few hundred bytes.  ``response_format="url"``
(the default) gives ``https://example.com/images/<hash>.png``; ``"b64_json"`` the PNG itself.
An edit's answer also holds ``received``: the fields, files (name, filename, content type,
size, SHA-256) and part order the server read.  ``stream: true`` (``stream=true`` for an
edit) streams ``partial_images`` (0 to 3) ``image_generation.partial_image`` (or
``image_edit.partial_image``) events per image, each a less finished PNG, then
``image_generation.completed`` (``image_edit.completed``) with ``usage``; no ``[DONE]``.

Speech (``POST /v1/audio/speech``): the audio in ``response_format`` (``mp3`` by default;
``opus``, ``aac``, ``flac``, ``wav``, ``pcm``) with its ``Content-Type``.  The body starts with
the format's header holding the input text as ``R9S_INPUT=<UTF-8 byte count>:<text>`` (mp3,
aac: an ID3v2.4 ``TXXX`` frame; wav: a RIFF ``LIST/INFO/ICMT`` chunk; flac: a Vorbis comment;
opus: an Ogg ``OpusTags`` comment; pcm: the bytes themselves, first), then filler from a 64
KiB block hashed from the input, repeated.  Size: ``max(header + 1 KiB, 4096 + 48 x the
input's UTF-8 bytes)`` by default; the request header ``X-R9S-Audio-Bytes: N`` asks for
exactly N bytes (0 to 1 GiB; fewer than the header cuts the header).

Transcriptions and translations (``POST /v1/audio/transcriptions``, ``/translations``,
multipart): the text is the ``R9S_INPUT`` the file holds when this server made it (found in
its first 64 KiB), else ``"Transcribed N bytes of <filename>."`` (``"Translated ..."``);
answered per ``response_format``: ``json`` ``{"text"}``, ``verbose_json`` (``task``,
``language``, ``duration``, ``text``, ``segments``: one per sentence, and ``words`` when
``timestamp_granularities`` holds ``word``; 0.4 s per word), ``text``, ``srt``, ``vtt``.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zlib
from collections.abc import Iterator
from typing import Any, Final

from r9s.testing._multipart import Form, Part
from r9s.testing._openai import (
    CONTENT,
    CREATED,
    POST,
    PRE,
    ApiError,
    SseStream,
    _dumps,
    _hole,
    _pad,
    _Template,
    _utf8,
    count_tokens,
    dumps_utf8,
)

__all__ = [
    "AUDIO_TYPES",
    "MAX_AUDIO_BYTES",
    "BinaryBody",
    "TextBody",
    "audio_header",
    "edit_image",
    "generate_image",
    "png_image",
    "recover_input",
    "speech",
    "transcribe",
]

#: Largest side of a generated PNG, in pixels.
MAX_SIDE: Final = 64
MAX_IMAGES: Final = 10
MAX_PARTIAL_IMAGES: Final = 3
MAX_PROMPT: Final = 32_000
#: Largest speech body ``X-R9S-Audio-Bytes`` may ask for.
MAX_AUDIO_BYTES: Final = 1024 * 1024 * 1024
MAX_SPEECH_INPUT: Final = 4096
#: The filler block's size, and how many of them go out per write.
BLOCK: Final = 64 * 1024
_BLOCKS_PER_CHUNK: Final = 4
AUDIO_TYPES: Final = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
TRANSCRIPT_FORMATS: Final = ("json", "text", "srt", "verbose_json", "vtt")
_TAG: Final = b"R9S_INPUT="
_TAG_RE: Final = re.compile(rb"R9S_INPUT=(\d{1,7}):")
_SIZE_RE: Final = re.compile(r"(\d{1,5})x(\d{1,5})")
#: An aspect ratio, as some of the gateway's image models take for ``size`` ("16:9").
_RATIO_RE: Final = re.compile(r"(\d{1,3}):(\d{1,3})")
_SENTENCE_RE: Final = re.compile(r"(?<=[.!?])\s+")
_WORD_SECONDS: Final = 0.4
_LANGUAGES: Final = {
    "en": "english",
    "fr": "french",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "ja": "japanese",
    "zh": "chinese",
    "ko": "korean",
    "ru": "russian",
}


class TextBody:
    """A whole answer that is not JSON: its bytes and content type."""

    __slots__ = ("content_type", "data")

    def __init__(self, data: bytes, content_type: str) -> None:
        self.data = data
        self.content_type = content_type


class BinaryBody:
    """A binary answer of known size whose bytes are made as they are sent."""

    __slots__ = ("_block", "_head", "content_type", "size")

    def __init__(self, content_type: str, size: int, head: bytes, block: bytes) -> None:
        self.content_type = content_type
        #: The body's exact size in bytes.
        self.size = size
        self._head = head
        self._block = block

    def chunks(self) -> Iterator[bytes]:
        """The body: the header, then the block repeated (at most 256 KiB per piece)."""
        size = self.size
        head = self._head[:size]
        if head:
            yield head
        left = size - len(head)
        if left <= 0:
            return
        unit = self._block * _BLOCKS_PER_CHUNK
        # Each pass sends len(unit) bytes; ``size`` (<= 1 GiB) bounds the loop.
        while left >= len(unit):
            yield unit
            left -= len(unit)
        if left:
            yield unit[:left]


# ----------------------------------------------------------------------------- PNG


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_image(width: int, height: int, seed: bytes, done: float = 1.0) -> bytes:
    """A small valid PNG: an RGB gradient whose colours come from ``seed``.

    Args:
        width, height: 1 to ``MAX_SIDE`` pixels.
        seed: at least 8 bytes (a hash).
        done: the fraction of rows drawn (a partial image); the others are grey.

    Returns:
        The PNG file's bytes.
    """
    base = seed[:3]
    step = bytes(1 + (b % 7) for b in seed[3:6])  # per-pixel colour change
    drawn = round(height * done)
    rows = []
    for y in range(height):
        if y < drawn:
            first = bytes((c + 3 * y) % 256 for c in base)
            rows.append(b"\x01" + first + step * (width - 1))  # filter 1 (Sub)
        else:
            rows.append(b"\x00" + b"\x80" * (3 * width))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"".join(rows), 9)
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def _pixels(size: str) -> tuple[int, int]:
    """The PNG's actual dimensions for a ``size`` such as ``"1024x1536"``, an aspect ratio
    such as ``"16:9"`` (the gateway's models that take one: Gemini, Minimax), or ``"auto"``."""
    if size == "auto":
        return MAX_SIDE, MAX_SIDE
    match = _SIZE_RE.fullmatch(size) or _RATIO_RE.fullmatch(size)
    if match is None:
        message = f"'size' must be WIDTHxHEIGHT, W:H or auto, not {size!r}"
        raise ApiError(400, message, param="size")
    width, height = int(match.group(1)), int(match.group(2))
    if width < 1 or height < 1:
        raise ApiError(400, f"'size' must be at least 1x1, not {size!r}", param="size")
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# ----------------------------------------------------------------------------- images


class _ImageRequest:
    """The parameters images.create and images.edit share, checked."""

    __slots__ = (
        "background",
        "format",
        "model",
        "n",
        "partial",
        "prompt",
        "quality",
        "size",
        "stream",
    )

    def __init__(self, get: Any, *, text_form: bool) -> None:
        prompt = get("prompt")
        if prompt is None:
            raise ApiError(400, "you must provide a prompt parameter", param="prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ApiError(400, "'prompt' must be a non-empty string", param="prompt")
        if len(prompt) > MAX_PROMPT:
            raise ApiError(400, f"'prompt' is longer than {MAX_PROMPT} characters", param="prompt")
        self.prompt = prompt
        self.model = _opt_str(get, "model") or "dall-e-2"
        self.n = _opt_int(get, "n", 1, MAX_IMAGES, text_form) or 1
        self.size = _opt_str(get, "size") or "1024x1024"
        self.format = _opt_str(get, "response_format") or "url"
        if self.format not in ("url", "b64_json"):
            message = "'response_format' must be url or b64_json"
            raise ApiError(400, message, param="response_format")
        self.quality = _opt_str(get, "quality") or "auto"
        self.background = _opt_str(get, "background") or "auto"
        self.stream = _opt_bool(get, "stream", text_form)
        self.partial = _opt_int(get, "partial_images", 0, MAX_PARTIAL_IMAGES, text_form) or 0
        _opt_str(get, "output_format")
        _opt_str(get, "user")


def _opt_str(get: Any, name: str) -> str | None:
    value = get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"'{name}' must be a string", param=name)
    return value


def _opt_int(get: Any, name: str, low: int, high: int, text_form: bool) -> int | None:
    value = get(name)
    if value is None:
        return None
    if text_form and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be an integer from {low} to {high}", param=name)
    return value


def _opt_bool(get: Any, name: str, text_form: bool) -> bool:
    value = get(name)
    if value is None:
        return False
    if text_form and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ApiError(400, f"'{name}' must be a boolean", param=name)
    return value


def _opt_float(get: Any, name: str, low: float, high: float) -> float | None:
    value = get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ApiError(400, f"'{name}' must be a number", param=name) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ApiError(400, f"'{name}' must be a number from {low:g} to {high:g}", param=name)
    return float(value)


def _seed(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).digest()


def _images(
    req: _ImageRequest, ident: int, kind: str, inputs: str, received: dict[str, Any] | None
) -> bytes | SseStream:
    width, height = _pixels(req.size)
    prompt_tokens = count_tokens([req.prompt])
    image_tokens = width * height // 16
    usage = {
        "total_tokens": prompt_tokens + image_tokens * req.n,
        "input_tokens": prompt_tokens,
        "output_tokens": image_tokens * req.n,
        "input_tokens_details": {"text_tokens": prompt_tokens, "image_tokens": 0},
    }
    seeds = [_seed(req.model, req.prompt, req.size, str(i), inputs) for i in range(req.n)]
    if req.stream:
        return _ImageStream(kind, req, width, height, seeds, usage)
    data: list[dict[str, Any]] = []
    for seed in seeds:
        item: dict[str, Any]
        if req.format == "url":
            item = {"url": f"https://example.com/images/{seed.hex()[:32]}.png"}
        else:
            png = png_image(width, height, seed)
            item = {"b64_json": base64.b64encode(png).decode("ascii")}
        item["revised_prompt"] = req.prompt
        data.append(item)
    doc: dict[str, Any] = {"created": CREATED, "data": data, "usage": usage}
    if received is not None:
        doc["received"] = received
    return dumps_utf8(doc)


def generate_image(body: dict[str, Any], ident: int, check_model: Any) -> bytes | SseStream:
    """Answer ``POST /v1/images/generations`` (see the module docstring).

    Args:
        body: the parsed JSON body.
        ident: the request's number.
        check_model: ``Catalog.check``.

    Returns:
        The JSON answer or the stream; raises ApiError for a request OpenAI refuses.
    """
    req = _ImageRequest(body.get, text_form=False)
    if body.get("model") is not None:
        check_model(req.model)
    return _images(req, ident, "image_generation", "", None)


def edit_image(form: Form, ident: int, check_model: Any) -> bytes | SseStream:
    """Answer ``POST /v1/images/edits`` from its multipart form (see the module docstring)."""
    req = _ImageRequest(form.field, text_form=True)
    images = form.files("image", "image[]")
    if not images:
        message = "you must provide an image (an image or image[] file part)"
        raise ApiError(400, message, param="image")
    masks = form.files("mask")
    if form.field("model") is not None:
        check_model(req.model)
    inputs = ",".join(p.sha256 for p in (*images, *masks))
    return _images(req, ident, "image_edit", inputs, form.received())


class _ImageStream(SseStream):
    """Partial images, then the completed one, per image; no ``[DONE]``.

    Kinds: every partial image and every completed image but the last is CONTENT; the last
    completed image is POST.
    """

    has_done = False

    def __init__(
        self,
        kind: str,
        req: _ImageRequest,
        width: int,
        height: int,
        seeds: list[bytes],
        usage: dict[str, Any],
    ) -> None:
        super().__init__()
        self._kind = kind
        self._req = req
        self._width = width
        self._height = height
        self._seeds = seeds
        self._usage = usage

    def _event(self, doc: dict[str, Any]) -> bytes:
        nl = self._nl
        return _utf8(f"event: {doc['type']}{nl}data: {_dumps(doc)}{nl}{nl}")

    def _common(self) -> dict[str, Any]:
        req = self._req
        return {
            "created_at": CREATED,
            "size": req.size,
            "quality": "medium" if req.quality == "auto" else req.quality,
            "background": "opaque" if req.background == "auto" else req.background,
            "output_format": "png",
        }

    def error_event(self) -> bytes:
        error = {"type": "server_error", "code": "server_error", "message": "overloaded"}
        return self._event({"type": "error", "error": error})

    def _events(self, big_event: int | None, invalid_json: bool) -> Iterator[tuple[int, bytes]]:
        if invalid_json:
            nl = self._nl
            yield PRE, _utf8(f"event: {self._kind}.partial_image{nl}data: {{bad json{nl}{nl}")
        if big_event is not None:
            doc = {
                "type": f"{self._kind}.partial_image",
                "b64_json": _hole("pad"),
                "partial_image_index": 0,
            }
            template = _Template(doc)
            padded = template.render(pad='"' + _pad(template, big_event) + '"')
            nl = self._nl
            yield PRE, _utf8(f"event: {self._kind}.partial_image{nl}data: {padded}{nl}{nl}")
        last = len(self._seeds) - 1
        partial = self._req.partial
        for index, seed in enumerate(self._seeds):
            for i in range(partial):
                png = png_image(self._width, self._height, seed, (i + 1) / (partial + 1))
                b64 = base64.b64encode(png).decode("ascii")
                doc = {
                    "type": f"{self._kind}.partial_image",
                    "b64_json": b64,
                    **self._common(),
                    "partial_image_index": i,
                    **self._gateway(index, b64, (i + 1) / (partial + 1), False),
                }
                yield CONTENT, self._event(doc)
            png = png_image(self._width, self._height, seed)
            b64 = base64.b64encode(png).decode("ascii")
            doc = {
                "type": f"{self._kind}.completed",
                "b64_json": b64,
                **self._common(),
                "usage": self._usage,
                **self._gateway(index, b64, 1.0, True),
            }
            yield (POST if index == last else CONTENT), self._event(doc)

    def _gateway(self, index: int, b64: str, progress: float, final: bool) -> dict[str, Any]:
        """A generation event also carries the gateway's own form, which the published SDK
        reads (``ImageGenerationStreamEvent``: ``id``, ``created``, ``model``, ``object``, a
        ``data`` list with ``progress`` and ``is_final``), so code written for either reads it.
        Edit events are OpenAI's alone, as the published SDK's ``ImageEditEventData``."""
        if self._kind != "image_generation":
            return {}
        item = {"index": index, "b64_json": b64, "progress": progress, "is_final": final}
        return {
            "id": f"imggen-{CREATED}-{index}",
            "created": CREATED,
            "model": self._req.model,
            "object": "image.generation.chunk",
            "data": [item],
        }


# ----------------------------------------------------------------------------- speech


def _tag(text: str) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    return _TAG + str(len(raw)).encode("ascii") + b":" + raw


def _syncsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


def _id3(tag: bytes) -> bytes:
    frame = b"\x03r9s\x00" + tag  # UTF-8, description "r9s", the value
    frames = b"TXXX" + _syncsafe(len(frame)) + b"\x00\x00" + frame
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames


def _wav(tag: bytes, total: int) -> bytes:
    comment = tag + b"\x00"
    padded = comment + (b"\x00" if len(comment) % 2 else b"")
    info = b"INFO" + b"ICMT" + struct.pack("<I", len(comment)) + padded
    fmt = struct.pack("<HHIIHH", 1, 1, 24000, 48000, 2, 16)
    header_len = 12 + 8 + len(fmt) + 8 + len(info) + 8
    data = max(0, total - header_len)
    # An odd data size is followed by a pad byte (RIFF), which its size does not count.
    data_size = data - (data % 2)
    return (
        b"RIFF"
        + struct.pack("<I", max(0, total - 8))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"LIST"
        + struct.pack("<I", len(info))
        + info
        + b"data"
        + struct.pack("<I", data_size)
    )


def _flac(tag: bytes) -> bytes:
    # STREAMINFO: block sizes 4096, frame sizes unknown, 24 kHz, mono, 16 bits, no MD5.
    packed = (24000 << 44) | (0 << 41) | (15 << 36)
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + packed.to_bytes(8, "big") + b"\x00" * 16
    vendor = b"r9s"
    comments = struct.pack("<I", len(vendor)) + vendor + struct.pack("<II", 1, len(tag)) + tag
    return (
        b"fLaC"
        + bytes((0,))
        + len(info).to_bytes(3, "big")
        + info
        + bytes((0x80 | 4,))
        + len(comments).to_bytes(3, "big")
        + comments
    )


def _ogg_crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_OGG_CRC: Final = _ogg_crc_table()


def _ogg_page(packet: bytes, sequence: int, flags: int) -> bytes:
    lacing = [255] * (len(packet) // 255) + [len(packet) % 255]
    head = (
        b"OggS\x00"
        + bytes((flags,))
        + struct.pack("<qIII", 0, 0x5239, sequence, 0)
        + bytes((len(lacing),))
        + bytes(lacing)
    )
    page = head + packet
    crc = 0
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC[((crc >> 24) ^ byte) & 0xFF]
    return page[:22] + struct.pack("<I", crc) + page[26:]


def _opus(tag: bytes) -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 24000, 0, 0)
    vendor = b"r9s"
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor
    tags += struct.pack("<II", 1, len(tag)) + tag
    return _ogg_page(head, 0, 0x02) + _ogg_page(tags, 1, 0x00)


def audio_header(fmt: str, text: str, total: int) -> bytes:
    """The start of a speech body: the format's header holding ``R9S_INPUT=<n>:<text>``.

    Args:
        fmt: one of ``AUDIO_TYPES``.
        text: the spoken input.
        total: the body's whole size (the RIFF sizes of a wav depend on it).

    Returns:
        The header bytes.
    """
    tag = _tag(text)
    if fmt in ("mp3", "aac"):
        return _id3(tag)
    if fmt == "wav":
        return _wav(tag, total)
    if fmt == "flac":
        return _flac(tag)
    if fmt == "opus":
        if len(tag) > 255 * 254:
            tag = _tag(text[: 255 * 254 // 4])
        return _opus(tag)
    return tag


def _filler(fmt: str, text: str) -> bytes:
    noise = hashlib.shake_256(f"{fmt}\x00{text}".encode("utf-8", "surrogatepass")).digest(BLOCK)
    if fmt != "mp3":
        return noise
    # MPEG-1 layer III frames (128 kbit/s, 44.1 kHz: 417 bytes each), noise inside.
    frame = 417
    out = bytearray(noise)
    for at in range(0, BLOCK - 4, frame):
        out[at : at + 4] = b"\xff\xfb\x90\x64"
    return bytes(out)


def speech(body: dict[str, Any], check_model: Any, size_header: str | None) -> BinaryBody:
    """Answer ``POST /v1/audio/speech`` (see the module docstring).

    Args:
        body: the parsed JSON body.
        check_model: ``Catalog.check``.
        size_header: the ``X-R9S-Audio-Bytes`` header, if sent.

    Returns:
        The audio; raises ApiError for a request OpenAI refuses.
    """
    model = _opt_str(body.get, "model")
    if not model:
        raise ApiError(400, "you must provide a model parameter", param="model")
    check_model(model)
    text = body.get("input")
    if text is None:
        raise ApiError(400, "you must provide an input parameter", param="input")
    if not isinstance(text, str) or not text:
        raise ApiError(400, "'input' must be a non-empty string", param="input")
    if len(text) > MAX_SPEECH_INPUT:
        message = f"'input' is longer than {MAX_SPEECH_INPUT} characters"
        raise ApiError(400, message, param="input")
    voice = body.get("voice")
    if voice is None:
        raise ApiError(400, "you must provide a voice parameter", param="voice")
    if not isinstance(voice, str | dict) or not voice:
        raise ApiError(400, "'voice' must be a voice name", param="voice")
    fmt = _opt_str(body.get, "response_format") or "mp3"
    content_type = AUDIO_TYPES.get(fmt)
    if content_type is None:
        message = f"'response_format' must be one of {', '.join(AUDIO_TYPES)}"
        raise ApiError(400, message, param="response_format")
    _opt_float(body.get, "speed", 0.25, 4.0)
    _opt_str(body.get, "instructions")
    if size_header is not None:
        value = size_header.strip()
        if not value.isdigit() or int(value) > MAX_AUDIO_BYTES:
            message = f"X-R9S-Audio-Bytes must be a number of bytes from 0 to {MAX_AUDIO_BYTES}"
            raise ApiError(400, message, param="x-r9s-audio-bytes")
        total = int(value)
    else:
        probe = audio_header(fmt, text, 0)
        total = max(len(probe) + 1024, 4096 + 48 * len(text.encode("utf-8", "surrogatepass")))
    return BinaryBody(content_type, total, audio_header(fmt, text, total), _filler(fmt, text))


# ----------------------------------------------------------------------------- transcription


def recover_input(data: bytes) -> str | None:
    """The text a speech body of this server holds (``R9S_INPUT=<n>:<text>``), if any.

    Args:
        data: the file's first bytes.

    Returns:
        The text, or None when ``data`` holds no complete tag.
    """
    match = _TAG_RE.search(data)
    if match is None:
        return None
    size = int(match.group(1))
    raw = data[match.end() : match.end() + size]
    if len(raw) != size:
        return None
    return raw.decode("utf-8", "replace")


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _segments(text: str, temperature: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    at = 0.0
    for i, sentence in enumerate(s for s in _SENTENCE_RE.split(text.strip()) if s):
        words = sentence.split()
        end = at + _WORD_SECONDS * max(1, len(words))
        tokens = [50364 + zlib.crc32(w.encode("utf-8", "surrogatepass")) % 1000 for w in words]
        out.append(
            {
                "id": i,
                "seek": 0,
                "start": round(at, 3),
                "end": round(end, 3),
                "text": " " + sentence,
                "tokens": tokens,
                "temperature": temperature,
                "avg_logprob": -0.25,
                "compression_ratio": 1.0,
                "no_speech_prob": 0.01,
            }
        )
        at = end
    return out


def transcribe(form: Form, check_model: Any, *, translate: bool) -> bytes | TextBody:
    """Answer ``POST /v1/audio/transcriptions`` or ``/translations`` (module docstring).

    Args:
        form: the multipart form.
        check_model: ``Catalog.check``.
        translate: a translation (``task`` ``translate``, language ``english``).

    Returns:
        JSON, or the text formats as a ``TextBody``; raises ApiError for a bad request.
    """
    files = form.files("file")
    if not files:
        raise ApiError(400, "you must provide a file (a file part named 'file')", param="file")
    model = form.field("model")
    if not model:
        raise ApiError(400, "you must provide a model parameter", param="model")
    check_model(model)
    fmt = form.field("response_format") or "json"
    if fmt not in TRANSCRIPT_FORMATS:
        message = f"'response_format' must be one of {', '.join(TRANSCRIPT_FORMATS)}"
        raise ApiError(400, message, param="response_format")
    temperature = _opt_float(form.field, "temperature", 0.0, 1.0) or 0.0
    granularities = form.values("timestamp_granularities", "timestamp_granularities[]")
    for value in granularities:
        if value not in ("word", "segment"):
            message = "'timestamp_granularities' values must be word or segment"
            raise ApiError(400, message, param="timestamp_granularities")
    language = form.field("language")
    file: Part = files[0]
    text = recover_input(bytes(file.data))
    if text is None:
        verb = "Translated" if translate else "Transcribed"
        text = f"{verb} {file.size} bytes of {file.filename or 'the file'}."
    if fmt == "text":
        return TextBody(_utf8(text + "\n"), "text/plain; charset=utf-8")
    segments = _segments(text, temperature)
    if fmt in ("srt", "vtt"):
        lines = [] if fmt == "srt" else ["WEBVTT", ""]
        sep = "," if fmt == "srt" else "."
        for seg in segments:
            if fmt == "srt":
                lines.append(str(seg["id"] + 1))
            stamp = f"{_timestamp(seg['start'], sep)} --> {_timestamp(seg['end'], sep)}"
            lines.extend([stamp, seg["text"].strip(), ""])
        content_type = "application/x-subrip" if fmt == "srt" else "text/vtt"
        return TextBody(_utf8("\n".join(lines) + "\n"), f"{content_type}; charset=utf-8")
    if fmt == "json":
        return dumps_utf8({"text": text})
    words = text.split()
    duration = round(_WORD_SECONDS * max(1, len(words)), 3)
    if translate:
        name = "english"
    else:
        name = _LANGUAGES.get((language or "en").lower(), (language or "english").lower())
    doc: dict[str, Any] = {
        "task": "translate" if translate else "transcribe",
        "language": name,
        "duration": duration,
        "text": text,
    }
    if "word" in granularities:
        doc["words"] = [
            {
                "word": w.strip(".,;:!?\"'()"),
                "start": round(i * _WORD_SECONDS, 3),
                "end": round((i + 1) * _WORD_SECONDS, 3),
            }
            for i, w in enumerate(words)
        ]
    doc["segments"] = segments
    return dumps_utf8(doc)
