"""Audio objects: transcriptions and translations (``POST /audio/transcriptions`` ...).

Speech (``POST /audio/speech``) answers bytes: a ``r9s.binary.BinaryResponse``.  A
transcription asked for as ``text``, ``srt`` or ``vtt`` is a plain ``str``.
"""

from __future__ import annotations

from r9s.models._base import Model

__all__ = ["AudioTranscriptionResponse", "AudioTranslationResponse", "Segment", "Word"]


class Word(Model):
    word: str | None
    start: float | None
    end: float | None


class Segment(Model):
    id: int | None
    seek: int | None
    start: float | None
    end: float | None
    text: str | None
    tokens: list[int] | None
    temperature: float | None
    avg_logprob: float | None
    compression_ratio: float | None
    no_speech_prob: float | None


class AudioTranscriptionResponse(Model):
    """``res.text``; with ``verbose_json`` also ``language``, ``duration``, ``words``,
    ``segments``."""

    text: str
    language: str | None
    duration: float | None
    words: list[Word] | None
    segments: list[Segment] | None


class AudioTranslationResponse(Model):
    text: str
    language: str | None
    duration: float | None
