"""What the LLM is shown: a few-shot completion prompt (the cpu model is a base model with no chat
template) and the time format."""

from __future__ import annotations

from collections.abc import Sequence

from longwatch.times import format_range_s
from longwatch.types import SearchHit

INSTRUCTION = "Answer each question with the exact words or numbers copied from its notes, as short as possible."
# Worked examples teach the base model the format (a short span copied from the notes, then a newline)
# and that the answer may be a phrase of a caption or one item of on-screen text, not always the last.
FEW_SHOT_EXAMPLES = (
    "Notes:\n"
    "[0:05-0:10] a white van parks by the loading bay. text on screen: SPEED LIMIT 20 | BAY 3\n"
    "[0:10-0:15] a man in a blue coat walks past the van\n"
    "Question: Who walked past the van?\n"
    "Answer: a man in a blue coat\n"
    "\n"
    "Notes:\n"
    "[1:00-1:04] text on screen: XR 9921 | GATE B\n"
    "[1:04-1:08] a green bus stops\n"
    "Question: What was the number plate?\n"
    "Answer: XR 9921\n"
    "\n"
    "Notes:\n"
    "[2:00-2:05] a man opens the door. text on screen: EXIT 7\n"
    "Question: What did the man do?\n"
    "Answer: opens the door\n"
)
# A reply is one line, and one item of on-screen text ("KPL 4721", not "KPL 4721 | EXIT 42").
ANSWER_STOP = ("\n", "|")


def format_note(hit: SearchHit, max_chars: int) -> str:
    """One line of the prompt: "[0:40-0:45] text on screen: ALARM CODE 7315"."""
    text = " ".join(hit.text.split())[:max_chars]
    return f"[{format_range_s(hit.start_s, hit.end_s)}] {text}"


def build_prompt(question: str, hits: Sequence[SearchHit], max_note_chars: int) -> str:
    """The few-shot completion prompt for `hits` (best first); the continuation after "Answer:" is the reply.

    The best hit goes last, nearest the question: a small model copies most from what it read last.
    """
    notes = "\n".join(format_note(hit, max_note_chars) for hit in reversed(hits))
    asked = " ".join(question.split())
    return f"{INSTRUCTION}\n\n{FEW_SHOT_EXAMPLES}\nNotes:\n{notes}\nQuestion: {asked}\nAnswer:"
