"""Every captioner speaks the same Protocol, and OCR stays on beside the VLM: the tiny VLM's captioner
reads plates and codes with OCR and shows them to the model (slow: loads RapidOCR and a tiny VLM)."""

from __future__ import annotations

import pytest

from longwatch.errors import InvalidArgument
from perception.core.captioners import CAPTIONERS, CaptionerOptions, load_captioner
from perception.core.captioners.vlm import with_text
from tests.unit.perception.test_ocr import text_frame


def test_the_prompt_carries_the_text_ocr_read():
    assert with_text("Describe it.", []) == "Describe it."
    assert with_text("Describe it.", ["EXIT 7", "AB12 CDE"]) == "Describe it.\nText read on screen: EXIT 7; AB12 CDE"


def test_an_unknown_captioner_names_the_valid_ones():
    with pytest.raises(InvalidArgument, match="unknown captioner 'tesseract'; valid: .*ocr"):
        load_captioner("tesseract", CaptionerOptions())
    assert set(CAPTIONERS) == {"ocr", "vlm", "tiny-vlm"}


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("model-cache")


@pytest.mark.slow
def test_the_vlm_reads_text_with_ocr_and_shows_it_to_the_model(model_cache, monkeypatch):
    captioner = load_captioner("tiny-vlm", CaptionerOptions(model_cache=model_cache, max_new_tokens=4))
    frame = text_frame({(40, 60): "AB12 CDE", (300, 250): "EXIT 7"}, font_px=16)
    assert captioner.read_text([frame], context="cam") == [("AB12 CDE", "EXIT 7")]
    prompts: list[str] = []
    generate = captioner._generate
    monkeypatch.setattr(captioner, "_generate", lambda images, text: prompts.append(text) or generate(images, text))
    assert isinstance(captioner.caption([frame], ["AB12 CDE"]), str)
    answer = captioner.describe([frame], "What is the plate?")
    assert isinstance(answer, str)
    assert prompts[0].endswith("Text read on screen: AB12 CDE")
    assert prompts[1] == "What is the plate?\nText read on screen: AB12 CDE; EXIT 7"
    assert captioner.describe([], "What is the plate?") == ""


@pytest.mark.slow
def test_without_ocr_beside_it_the_vlm_reads_no_text(model_cache):
    options = CaptionerOptions(model_cache=model_cache, max_new_tokens=4, ocr_with_vlm=False)
    captioner = load_captioner("tiny-vlm", options)
    frame = text_frame({(40, 60): "AB12 CDE"}, font_px=16)
    assert captioner.read_text([frame, frame]) == [(), ()]
