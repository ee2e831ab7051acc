"""What each image model accepts, to check a request before sending it.

The published SDK's ``r9s.utils.image_constraints`` offers these names; code written for it
keeps working.  The figures (sizes, ``n`` ranges, prompt lengths, the models' optional
parameters, the size <-> aspect-ratio maps) are the published package's facts (r9s 0.9.0,
``src/r9s/utils/image_constraints.py``); the gateway stays the judge: r9s sends what you give.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "GEMINI_ASPECT_RATIOS",
    "MINIMAX_ASPECT_RATIOS",
    "MODEL_CONSTRAINTS",
    "OPENAI_SIZE_RATIOS",
    "ModelConstraints",
    "get_gemini_aspect_ratio",
    "get_minimax_dimensions",
    "get_model_constraints",
    "validate_image_request",
]


class ModelConstraints(NamedTuple):
    """What one model accepts.  An empty ``sizes`` list means any size."""

    sizes: list[str]
    n_range: tuple[int, int]
    prompt_max: int
    supports_negative_prompt: bool = False
    supports_seed: bool = False
    supports_aspect_ratio: bool = False
    supports_4k: bool = False


_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "5:4", "4:5", "21:9"]
_GEMINI_SIZES = [*_RATIOS, "1024x1024", "1792x1024", "1024x1792"]
_OPENAI_GPT_IMAGE = ["1024x1024", "1024x1536", "1536x1024"]
_ALI_SD = ["512x1024", "1024x768", "1024x1024", "576x1024", "1024x576"]


def _gemini(**flags: bool) -> ModelConstraints:
    return ModelConstraints(_GEMINI_SIZES, (1, 1), 32000, supports_aspect_ratio=True, **flags)


def _ali(sizes: list[str]) -> ModelConstraints:
    return ModelConstraints(sizes, (1, 1), 800, supports_negative_prompt=True, supports_seed=True)


#: Constraints by model id.
MODEL_CONSTRAINTS: dict[str, ModelConstraints] = {
    "dall-e-2": ModelConstraints(["256x256", "512x512", "1024x1024"], (1, 10), 1000),
    "dall-e-3": ModelConstraints(["1024x1024", "1024x1792", "1792x1024"], (1, 1), 4000),
    "gpt-image-1": ModelConstraints(_OPENAI_GPT_IMAGE, (1, 1), 4000),
    "gpt-image-1.5": ModelConstraints(_OPENAI_GPT_IMAGE, (1, 10), 4000),
    "wanx-v1": _ali(["1024x1024", "720x1280", "1280x720"]),
    "ali-stable-diffusion-xl": _ali(_ALI_SD),
    "ali-stable-diffusion-v1.5": _ali(_ALI_SD),
    "cogview-3": ModelConstraints([], (1, 1), 833),
    "image-01": ModelConstraints(
        ["1:1", "16:9", "4:3", "3:2", "2:3", "3:4", "9:16", "21:9"],
        (1, 9),
        1500,
        supports_aspect_ratio=True,
        supports_seed=True,
    ),
    "gemini-2.5-flash-image": _gemini(),
    "gemini-2.5-flash-preview-05-20": _gemini(),
    "gemini-3-pro-image-preview": _gemini(supports_4k=True),
}

#: OpenAI's price of a size relative to the model's cheapest.
OPENAI_SIZE_RATIOS: dict[str, dict[str, float]] = {
    "dall-e-2": {"256x256": 1.0, "512x512": 1.125, "1024x1024": 1.25},
    "dall-e-3": {"1024x1024": 1.0, "1024x1792": 2.0, "1792x1024": 2.0},
    "gpt-image-1": {"1024x1024": 1.0, "1024x1536": 2.0, "1536x1024": 2.0},
    "gpt-image-1.5": {"1024x1024": 1.0, "1024x1536": 2.0, "1536x1024": 2.0},
}

#: Gemini's aspect ratio for an OpenAI-style size.
GEMINI_ASPECT_RATIOS: dict[str, str] = {
    "1024x1024": "1:1",
    "1792x1024": "16:9",
    "1024x1792": "9:16",
    "1152x864": "4:3",
    "864x1152": "3:4",
    "1248x832": "3:2",
    "832x1248": "2:3",
    "1280x1024": "5:4",
    "1024x1280": "4:5",
    "1344x576": "21:9",
}

#: Minimax's pixel dimensions for an aspect ratio.
MINIMAX_ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1280, 720),
    "4:3": (1152, 864),
    "3:2": (1248, 832),
    "2:3": (832, 1248),
    "3:4": (864, 1152),
    "9:16": (720, 1280),
    "21:9": (1344, 576),
}


def get_model_constraints(model: str) -> ModelConstraints | None:
    """The model's constraints, or ``None`` for a model this table does not know."""
    return MODEL_CONSTRAINTS.get(model)


def validate_image_request(
    model: str,
    prompt: str,
    size: str | None = None,
    n: int | None = None,
    negative_prompt: str | None = None,
) -> list[str]:
    """What is wrong with a request for ``model``, one sentence each (empty: nothing, or an
    unknown model)."""
    limits = MODEL_CONSTRAINTS.get(model)
    if limits is None:
        return []
    problems = []
    if len(prompt) > limits.prompt_max:
        problems.append(
            f"{model} takes prompts of at most {limits.prompt_max} characters, not {len(prompt)}"
        )
    if size and limits.sizes and size not in limits.sizes:
        problems.append(f"{model} does not make size {size} (it makes {', '.join(limits.sizes)})")
    low, high = limits.n_range
    if n is not None and not low <= n <= high:
        problems.append(f"{model} makes {low} to {high} images per request, not {n}")
    if negative_prompt is not None and not limits.supports_negative_prompt:
        problems.append(f"{model} takes no negative_prompt")
    return problems


def get_gemini_aspect_ratio(size: str) -> str | None:
    """Gemini's aspect ratio for ``size`` (``"1792x1024"`` -> ``"16:9"``); a ratio is kept."""
    return size if ":" in size else GEMINI_ASPECT_RATIOS.get(size)


def get_minimax_dimensions(aspect_ratio: str) -> tuple[int, int] | None:
    """Minimax's ``(width, height)`` for an aspect ratio (``"16:9"`` -> ``(1280, 720)``)."""
    return MINIMAX_ASPECT_RATIOS.get(aspect_ratio)
