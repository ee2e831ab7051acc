"""``client.audio``: speech, transcription and translation (``POST /audio/...``)."""

from __future__ import annotations

from typing import Unpack

from r9s._core.api import AUDIO_SPEECH, AUDIO_TRANSCRIBE, AUDIO_TRANSLATE
from r9s._core.params import SpeechParams, TranscriptionParams, TranslationParams
from r9s.binary import BinaryResponse, BinaryResponseAsync
from r9s.models.audio import AudioTranscriptionResponse, AudioTranslationResponse
from r9s.resources._base import Resource

__all__ = ["Audio"]


class Audio(Resource):
    """Text to speech (bytes out, streamed) and speech to text (a file in, streamed)."""

    __slots__ = ()

    def speech(self, **params: Unpack[SpeechParams]) -> BinaryResponse:
        """Speak ``input`` with ``voice``: the audio as a ``BinaryResponse`` (``read()``,
        ``iter_bytes()``, ``stream_to_file(path)``; close it, or use ``with``)."""
        response: BinaryResponse = self._client._run(AUDIO_SPEECH, params)
        return response

    async def speech_async(self, **params: Unpack[SpeechParams]) -> BinaryResponseAsync:
        response: BinaryResponseAsync = await self._client._run_async(AUDIO_SPEECH, params)
        return response

    def transcribe(self, **params: Unpack[TranscriptionParams]) -> AudioTranscriptionResponse | str:
        """The text of ``file``: an object (``res.text``), or with ``response_format`` ``text``,
        ``srt`` or ``vtt`` the text itself, a ``str``."""
        return self._client._run(AUDIO_TRANSCRIBE, params)

    async def transcribe_async(
        self, **params: Unpack[TranscriptionParams]
    ) -> AudioTranscriptionResponse | str:
        return await self._client._run_async(AUDIO_TRANSCRIBE, params)

    def translate(self, **params: Unpack[TranslationParams]) -> AudioTranslationResponse | str:
        """``file`` translated into English text (as ``transcribe``)."""
        return self._client._run(AUDIO_TRANSLATE, params)

    async def translate_async(
        self, **params: Unpack[TranslationParams]
    ) -> AudioTranslationResponse | str:
        return await self._client._run_async(AUDIO_TRANSLATE, params)
