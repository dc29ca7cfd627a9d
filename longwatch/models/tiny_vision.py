"""Tiny random-weight vision models for the `tiny` profile, built offline in about a second each.

`build_clip` makes a CLIP and `build_siglip` a SigLIP whose image towers perception's `hf-clip`
encoder loads like any real one (CLIP has a class token and a projection, SigLIP neither);
`build_vlm` makes an Idefics3 (the SmolVLM architecture) that perception's `vlm` captioner loads
with `AutoProcessor` and `AutoModelForImageTextToText`, and whose vision tower and connector the
`vlm-vision` encoder loads. Random weights give garbage features and captions: these models test
shapes and code paths, not quality. Builders are seeded, so one cache name always holds the same
model (prepare them with `longwatch.models.cache.prepared`).
"""

from __future__ import annotations

from pathlib import Path

from longwatch.models.tiny import SEED, build_tokenizer, tiny_llama_config

# Cache names under the model cache (`longwatch.models.cache.prepared(cache, NAME, build)`).
TINY_CLIP_NAME = "tiny-clip"
TINY_SIGLIP_NAME = "tiny-siglip"
TINY_VLM_NAME = "tiny-idefics3"

# 32-pixel images cut into 8-pixel patches: 16 patches, the smallest grid both towers accept.
IMAGE_SIZE_PX = 32
PATCH_SIZE_PX = 8
# Idefics3 merges scale_factor**2 patches into one image token: 16 / 4 = 4 tokens per image.
VLM_SCALE_FACTOR = 2
VLM_IMAGE_TOKENS = (IMAGE_SIZE_PX // PATCH_SIZE_PX) ** 2 // VLM_SCALE_FACTOR**2

_TINY_VISION_TOWER = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "image_size": IMAGE_SIZE_PX,
    "patch_size": PATCH_SIZE_PX,
}
# Tokens the Idefics3 processor looks up by name; the 6 x 6 grid tags are used when images are split.
_IDEFICS3_TOKENS = [
    "<fake_token_around_image>",
    "<image>",
    "<end_of_utterance>",
    "<global-img>",
    *[f"<row_{row}_col_{col}>" for row in range(1, 7) for col in range(1, 7)],
]
# Renders {"type": "image"} items as <image>, which the processor expands to the image's tokens.
_VLM_CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>"
    "{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}<image>{% else %}{{ item['text'] }}{% endif %}"
    "{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _clip_image_processor():
    """The PIL image processor: the default one wants torchvision, which these machines must not install."""
    try:
        from transformers import CLIPImageProcessorPil as processor_class
    except ImportError:  # older transformers: the plain class is the PIL one
        from transformers import CLIPImageProcessor as processor_class
    size = {"shortest_edge": IMAGE_SIZE_PX}
    return processor_class(size=size, crop_size={"height": IMAGE_SIZE_PX, "width": IMAGE_SIZE_PX})


# The text tower of the tiny CLIP and SigLIP: 32 wide, 2 layers, a 512-token vocabulary.
_TINY_TEXT_TOWER = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "vocab_size": 512,
    "max_position_embeddings": 64,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
}


def build_clip(directory: Path) -> None:
    """A CLIP with 32-wide, 2-layer text and vision towers and 32-d projections (~100k parameters)."""
    import torch
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(SEED)
    config = CLIPConfig(text_config=_TINY_TEXT_TOWER, vision_config=_TINY_VISION_TOWER, projection_dim=32)
    CLIPModel(config).save_pretrained(directory)
    _clip_image_processor().save_pretrained(directory)


def _siglip_image_processor():
    """SigLIP's PIL processor: a plain resize to the square input, no crop."""
    try:
        from transformers import SiglipImageProcessorPil as processor_class
    except ImportError:  # older transformers: the plain class is the PIL one
        from transformers import SiglipImageProcessor as processor_class
    return processor_class(size={"height": IMAGE_SIZE_PX, "width": IMAGE_SIZE_PX})


def build_siglip(directory: Path) -> None:
    """A SigLIP with 32-wide, 2-layer text and vision towers (~100k parameters); its image embedding is
    the vision tower's attention-pooled output, 32-d."""
    import torch
    from transformers import SiglipConfig, SiglipModel

    torch.manual_seed(SEED)
    SiglipModel(SiglipConfig(text_config=_TINY_TEXT_TOWER, vision_config=_TINY_VISION_TOWER)).save_pretrained(directory)
    _siglip_image_processor().save_pretrained(directory)


def _idefics3_image_processor():
    try:
        from transformers.models.idefics3.image_processing_pil_idefics3 import (
            Idefics3ImageProcessorPil as processor_class,
        )
    except ImportError:  # older transformers: the plain class is the PIL one
        from transformers import Idefics3ImageProcessor as processor_class
    edge = {"longest_edge": IMAGE_SIZE_PX}
    return processor_class(size=edge, max_image_size=edge, do_image_splitting=False)


def build_vlm(directory: Path) -> None:
    """An Idefics3 with a 2-layer, 64-wide Llama and a 32-wide vision tower, with its processor."""
    import torch
    from transformers import Idefics3Config, Idefics3ForConditionalGeneration, Idefics3Processor

    torch.manual_seed(SEED)
    tokenizer = build_tokenizer(directory)
    tokenizer.add_special_tokens({"additional_special_tokens": _IDEFICS3_TOKENS})
    processor = Idefics3Processor(
        image_processor=_idefics3_image_processor(),
        tokenizer=tokenizer,
        image_seq_len=VLM_IMAGE_TOKENS,
        chat_template=_VLM_CHAT_TEMPLATE,
    )
    text_model = tiny_llama_config(tokenizer)
    config = Idefics3Config(
        text_config=text_model,
        vision_config=_TINY_VISION_TOWER,
        scale_factor=VLM_SCALE_FACTOR,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    Idefics3ForConditionalGeneration(config).save_pretrained(directory)
    processor.save_pretrained(directory)
