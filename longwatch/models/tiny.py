"""Tiny random-weight models for the `tiny` profile, built offline in well under a second.

They exercise the real code paths (tokenizers, `generate`, pooling) without weights
from a hub. Random weights give garbage text: these models test shapes, not quality.
Builders are deterministic (seeded), so the same cache name always holds the same model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# A few hundred lines of the kind of text longwatch handles, to train the tiny BPE on.
_CORPUS = [
    "a car with number plate {n} parks at the gate at {t} seconds",
    "the screen shows alarm code {n} and the sign says exit {t}",
    "what was the plate of the car? when did the sign appear? which code was on the screen?",
    "a person walks past the camera, a truck leaves, the door closes, the light turns red",
]
SEED = 1234
VOCAB_SIZE = 512
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _corpus_lines() -> list[str]:
    return [line.format(n=1000 + 37 * i, t=i) for i in range(100) for line in _CORPUS]


def build_tokenizer(directory: Path):
    """Trains a byte-level BPE on `_CORPUS` and saves it as a fast tokenizer with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<pad>", "<s>", "</s>", "<unk>"]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(_corpus_lines(), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(directory)
    return fast


def build_causal_lm(directory: Path) -> None:
    """A 2-layer, 64-wide Llama (~100k parameters) with the tiny tokenizer."""
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(SEED)
    tokenizer = build_tokenizer(directory)
    LlamaForCausalLM(tiny_llama_config(tokenizer)).save_pretrained(directory)


def tiny_llama_config(tokenizer: Any) -> Any:
    """The 2-layer, 64-wide Llama shape of every tiny language model (the LLM, the VLM's text side)."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )


def build_text_embedder(directory: Path) -> None:
    """A 2-layer, 32-wide BERT saved as a sentence-transformers model (mean pooling, 32-d)."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    torch.manual_seed(SEED)
    tokenizer = build_tokenizer(directory / "bert")
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
    )
    BertModel(config).save_pretrained(directory / "bert")
    word = models.Transformer(str(directory / "bert"), max_seq_length=256)
    pooling = models.Pooling(word.get_word_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[word, pooling]).save(str(directory))
