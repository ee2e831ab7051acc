"""The published SDK's ``r9s.audio_sdk`` names: the ``Accept`` choices of the audio operations.

``client.audio.speech(..., accept_header_override=SpeechAcceptEnum.AUDIO_WAV)`` sends
``Accept: audio/wav`` (any ``str`` works the same).  The values are the published package's
(r9s 0.9.0, ``src/r9s/audio_sdk.py``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SpeechAcceptEnum", "TranscribeAcceptEnum", "TranslateAcceptEnum"]


class SpeechAcceptEnum(StrEnum):
    AUDIO_AAC = "audio/aac"
    AUDIO_FLAC = "audio/flac"
    AUDIO_MPEG = "audio/mpeg"
    AUDIO_OPUS = "audio/opus"
    AUDIO_PCM = "audio/pcm"
    AUDIO_WAV = "audio/wav"


class TranscribeAcceptEnum(StrEnum):
    APPLICATION_JSON = "application/json"
    TEXT_PLAIN = "text/plain"
    APPLICATION_X_SUBRIP = "application/x-subrip"
    TEXT_VTT = "text/vtt"


class TranslateAcceptEnum(StrEnum):
    APPLICATION_JSON = "application/json"
    TEXT_PLAIN = "text/plain"
