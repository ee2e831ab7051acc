"""``r9s.utils.image_constraints``: the published SDK's per-model image limits, same names."""

from __future__ import annotations

from r9s.utils.image_constraints import (
    MODEL_CONSTRAINTS,
    get_gemini_aspect_ratio,
    get_minimax_dimensions,
    get_model_constraints,
    validate_image_request,
)


def test_constraints_of_known_and_unknown_models() -> None:
    wanx = get_model_constraints("wanx-v1")
    assert wanx is not None
    assert (wanx.prompt_max, wanx.n_range, wanx.supports_negative_prompt) == (800, (1, 1), True)
    assert get_model_constraints("gemini-3-pro-image-preview").supports_4k  # type: ignore[union-attr]
    assert get_model_constraints("no-such-model") is None
    assert "16:9" in MODEL_CONSTRAINTS["image-01"].sizes


def test_validate_image_request() -> None:
    assert validate_image_request(model="wanx-v1", prompt="a cat", size="1024x1024", n=1) == []
    problems = validate_image_request(
        model="dall-e-3", prompt="x" * 4001, size="640x480", n=2, negative_prompt="dogs"
    )
    assert len(problems) == 4
    assert any("4000" in p for p in problems) and any("640x480" in p for p in problems)
    assert validate_image_request(model="cogview-3", prompt="x", size="999x999") == []  # any size
    assert validate_image_request(model="unknown", prompt="x" * 10**6) == []


def test_aspect_ratio_maps() -> None:
    assert get_gemini_aspect_ratio("1792x1024") == "16:9"
    assert get_gemini_aspect_ratio("4:5") == "4:5"
    assert get_gemini_aspect_ratio("1x1") is None
    assert get_minimax_dimensions("21:9") == (1344, 576)
    assert get_minimax_dimensions("7:5") is None
