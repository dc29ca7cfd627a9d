"""What the LLM is shown: a few-shot completion prompt (the cpu model is a base model with no chat
template), the time format, and the question kinds that never need the LLM."""

from __future__ import annotations

import re
from collections.abc import Sequence

from longwatch.times import format_range_s
from longwatch.types import SearchHit

# Politeness and hedges that may come before the "when": "Can you tell me roughly when ...".
_LEAD_IN = (
    r"(?:(?:and|so|please|roughly|about|approximately|exactly|just)\s+"
    r"|(?:can|could|would)\s+you\s+(?:please\s+)?(?:tell\s+me|say|check)\s+"
    r"|(?:do|did)\s+you\s+(?:know|see|notice)\s+|tell\s+me\s+|i\s+(?:want|would\s+like)\s+to\s+know\s+)*"
)
# "What time did the clock show?" asks for a time read off the video, not for a moment in it.
_NOT_A_CLOCK_READING = r"(?!\s+(?:did|does|do|was|is)\s+(?:the\s+|a\s+|its\s+)?(?:clock|watch|timer|display)\b)"
# Questions about a moment: the answer is the evidence's time range, which the LLM must not invent.
_WHEN_QUESTION = re.compile(
    rf"^\W*{_LEAD_IN}when\b"
    r"|\bwhen\W*$"  # "The car KPL 4721 was seen when?"
    r"|\bsince\s+when\b"
    rf"|\b(?:(?:at|in)\s+)?(?:what|which)\s+(?:time|moment|point|timestamp)\b{_NOT_A_CLOCK_READING}"
    # "Which second did the door open?", but not "Which second car stopped?".
    r"|\b(?:what|which)\s+(?:minute|second)\s+(?:did|does|do|was|were|is)\b"
    r"|\b(?:at|in)\s+(?:what|which)\s+(?:minute|second)\b"
    r"|\bhow\s+long\s+ago\b",
    re.IGNORECASE,
)

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


def is_when_question(question: str) -> bool:
    """ "When did the van leave?", "At what time was the alarm?" — but not "What was shown when it rang?"."""
    return _WHEN_QUESTION.search(question) is not None


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
