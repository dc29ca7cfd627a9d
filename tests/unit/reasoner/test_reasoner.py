"""Reasoner.ask and summarize over a fake memory hierarchy: validation, the kinds of question, hops, time,
honest answers, deadlines and progress."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from longwatch.errors import InvalidArgument, NotFound, Unavailable
from longwatch.types import WHOLE_HISTORY, AnswerMethod, AskQuery, SummarizeQuery, TimeRange
from reasoner.core.answerer import Answerer
from reasoner.core.reasoner import Reasoner
from reasoner.core.types import ReasonerLimits
from tests.unit.reasoner.fakes import FakeClock, FakeLLM, FakeMemory, clip, scene

pytestmark = pytest.mark.anyio

# Ten minutes of a loading dock: lockers whose labels and numbers are shared by the wrong ones.
DOCK = scene(
    "dock",
    600,
    {
        (100, 110): "LOCKER 41 CODE 1111",
        (200, 210): "LOCKER 42 CODE 5531",
        (300, 306): "GATE 42 CODE 9999",
        (400, 410): "LOCKER 24 CODE 2424",
        (50, 60): "BAY 17 OPEN",
        (250, 270): "BAY 17 OPEN",
        (120, 150): "GATE CLOSED",
    },
)
YARD = scene("yard", 60, {(10, 20): "LOCKER 42 CODE 7777"}, caption="a van parks in the yard")


def make(clips=None, llm=None, clock=None, memory=None, **limits):
    memory = memory if memory is not None else FakeMemory(clips=list(DOCK if clips is None else clips))
    if clock is not None:
        memory.clock = memory.clock or clock
    llm = llm or FakeLLM(generation="nothing grounded")
    kwargs = {"clock": clock} if clock else {}
    reasoner = Reasoner(memory, Answerer(llm, **kwargs), ReasonerLimits(**limits), **kwargs)
    return reasoner, memory, llm


async def ask(reasoner, question, streams=(), deadline_ms=60_000, time_range=WHOLE_HISTORY, progress=None):
    return await reasoner.ask(AskQuery(question, tuple(streams), deadline_ms, time_range), progress)


# --- validation --------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   \n\t", "\x00", "\x1b\x07\u200b"])
async def test_empty_question_is_invalid(question):
    reasoner, memory, llm = make()
    with pytest.raises(InvalidArgument, match="question is empty: ask something about the video"):
        await ask(reasoner, question)
    assert memory.calls == [] and llm.calls == []


async def test_too_long_question_is_invalid():
    reasoner, _, _ = make(max_question_chars=10)
    with pytest.raises(InvalidArgument, match="at most 10"):
        await ask(reasoner, "What was the alarm code?")


@pytest.mark.parametrize(("deadline_ms", "message"), [(-1, "positive time budget"), (9_300_000_000, "at most 3600000")])
async def test_a_deadline_below_zero_or_past_an_hour_is_invalid(deadline_ms, message):
    reasoner, memory, _ = make()
    with pytest.raises(InvalidArgument, match=message):
        await ask(reasoner, "What was the code for locker 42?", deadline_ms=deadline_ms)
    assert memory.calls == []


async def test_zero_deadline_means_the_default():
    clock = FakeClock()
    reasoner, memory, _ = make(clock=clock, default_deadline_ms=7000)
    await ask(reasoner, "What was the code for locker 42?", deadline_ms=0)
    assert memory.calls[0][2] == pytest.approx(7.0)


async def test_a_time_range_that_ends_before_it_starts_is_invalid():
    reasoner, memory, _ = make()
    with pytest.raises(InvalidArgument, match="end"):
        await ask(reasoner, "What was the code for locker 42?", time_range=TimeRange(300, 100))
    assert memory.calls == []


async def test_unknown_stream_is_not_found_naming_it_and_the_known_ones():
    reasoner, _, _ = make([*DOCK, *YARD])
    with pytest.raises(NotFound, match=r"'gate'.*known streams: dock, yard"):
        await ask(reasoner, "What was the code for locker 42?", streams=["dock", "gate"])


async def test_a_not_found_lists_a_few_known_streams_not_all():
    reasoner, _, _ = make([clip(f"cam{index:04d}", 0, "a corridor") for index in range(1000)])
    with pytest.raises(NotFound, match="and 990 more") as caught:
        await ask(reasoner, "What was the code for locker 42?", streams=["dock"])
    assert len(str(caught.value)) < 400


async def test_unknown_stream_when_memory_is_empty():
    reasoner, _, _ = make([])
    with pytest.raises(NotFound, match="no streams yet"):
        await ask(reasoner, "What was the code for locker 42?", streams=["dock"])


async def test_empty_stream_id_is_invalid():
    reasoner, _, _ = make()
    with pytest.raises(InvalidArgument, match="stream_ids entry is empty"):
        await ask(reasoner, "What was the code for locker 42?", streams=[""])


async def test_memory_down_is_unavailable():
    reasoner, _, _ = make(memory=FakeMemory(clips=list(DOCK), is_down=True))
    with pytest.raises(Unavailable, match="memory"):
        await ask(reasoner, "What was the code for locker 42?")


# --- values, numbers and OCR -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question", ["What was the code for locker 42?", "Which code did locker 42 show?", "locker 42's code?"]
)
async def test_a_question_naming_a_number_gets_that_items_value_not_another_sharing_its_label_or_number(question):
    reasoner, _, _ = make()
    answer = await ask(reasoner, question, streams=["dock"])
    assert answer.answer == "5531"
    assert answer.method == AnswerMethod.VALUE
    assert "LOCKER 42 CODE 5531" in answer.evidence[0].text and answer.evidence[0].start_s == 200
    assert answer.confidence > 0.5 and not answer.partial


async def test_the_named_streams_limit_the_search():
    reasoner, _, _ = make([*DOCK, *YARD])
    answer = await ask(reasoner, "What was the code for locker 42?", streams=["yard"])
    assert answer.answer == "7777" and {e.stream_id for e in answer.evidence} == {"yard"}


async def test_ocr_misread_text_is_still_found():
    # OCR ran the label into its number and read O as 0; memory's word search does not see "locker" in it.
    misread = scene("dock", 600, {(200, 204): "L0CKER42 C0DE 5531", (100, 110): "LOCKER 41 CODE 1111"})
    reasoner, _, _ = make(misread)
    answer = await ask(reasoner, "What was the code for locker 42?")
    assert answer.answer == "5531"


def busy_dock() -> list:
    """Twenty minutes of a dock whose news ticker shows a new line every clip for its first 17 minutes, so
    summaries of more than a segment there reach memory's length limit and hide lines. Twenty lockers in
    its first minute share every word of the search for locker 42 ("LOCKER 50 CODE 42"), and memory's clip
    search over the whole history ranks them before the needle at 11:40."""
    ticker = "MARKETS OPEN HIGHER AS TRADERS WATCH RATES AND OIL PRICES"
    shown = {(2.0 * i, 2.0 * i + 2): f"NEWS {i:04d} {ticker}" for i in range(512)}
    shown.update({(2.0 + 3 * i, 4.0 + 3 * i): f"LOCKER {50 + i} CODE 42" for i in range(20)})
    shown[(700, 702)] = "LOCKER 42 C0DE 5531"
    return scene("dock", 1200, shown)


async def test_a_needle_memorys_clip_search_ranks_below_others_is_found_within_a_cut_summarys_span():
    reasoner, _, _ = make(busy_dock(), search_k=2)
    events = []
    answer = await ask(reasoner, "What was the code for locker 42?", progress=events.append)
    assert answer.answer == "5531"
    steps = [(event.step, event.start_s, event.end_s) for event in events if event.node_id]
    assert steps == [
        ("expand", 0, 1200),  # the lone top node is opened
        ("search", 0, 512),  # its cut summaries are searched within, best first
        ("backtrack", 0, 512),
        ("search", 512, 1024),
    ]


async def test_nodes_whose_complete_summaries_do_not_mention_it_are_not_opened():
    reasoner, memory, _ = make(search_k=5)  # DOCK's summaries are short: complete
    answer = await ask(reasoner, "What was the code for locker 43?")
    assert answer.method == AnswerMethod.NOT_SEEN and not answer.partial
    assert not [call for call in memory.calls if call[0] == "expand"]


async def test_something_never_shown_is_not_seen_citing_the_nearest_candidates():
    reasoner, _, _ = make()
    answer = await ask(reasoner, "What was the code for locker 43?")
    assert answer.answer.startswith("I have not seen locker 43")
    assert answer.method == AnswerMethod.NOT_SEEN
    assert answer.evidence  # the best candidates, to check against
    assert not any("5531" in answer.answer for _ in [0])


async def test_a_question_naming_nothing_shown_is_not_seen():
    reasoner, _, llm = make()
    answer = await ask(reasoner, "What did the giraffe eat?")
    assert answer.method == AnswerMethod.NOT_SEEN and answer.answer.startswith("I have not seen")
    assert llm.calls == []


# --- hops --------------------------------------------------------------------------------------------

DESKS = scene(
    "hall",
    300,
    {
        (20, 24): "TICKET 8 SEE DESK 3",
        (30, 34): "TICKET 9 SEE DESK 4",
        (100, 104): "DESK 3 SEE LOCKER 12",
        (110, 114): "DESK 4 SEE LOCKER 21",
        (200, 204): "LOCKER 12 CODE 7781",
        (210, 214): "LOCKER 21 CODE 1212",
        (220, 224): "DESK 8 SEE LOCKER 5",
    },
    caption="a ticket hall",
)


async def test_a_two_hop_question_follows_the_pointer_and_cites_both_hops():
    reasoner, _, _ = make(DESKS)
    answer = await ask(reasoner, "Desk 3 points to a locker: what code did that locker show?")
    assert answer.answer == "7781" and answer.hops == 1
    assert [(e.hop, e.start_s) for e in answer.evidence[:2]] == [(0, 100), (1, 200)]


async def test_a_three_hop_question_cites_every_hop_in_order():
    reasoner, _, _ = make(DESKS)
    question = "Ticket 8 points to a desk, and the desk points to a locker. What code did the locker show?"
    events = []
    answer = await ask(reasoner, question, progress=events.append)
    assert answer.answer == "7781" and answer.hops == 2
    assert [(e.hop, e.start_s) for e in answer.evidence[:3]] == [(0, 20), (1, 100), (2, 200)]
    assert [event.detail for event in events if event.step == "hop"] == [
        "'TICKET 8 SEE DESK 3' points to DESK 3: searching for it",
        "'DESK 3 SEE LOCKER 12' points to LOCKER 12: searching for it",
    ]


async def test_a_pointer_to_something_never_shown_says_which_hop_failed():
    hall = scene("hall", 100, {(20, 24): "TICKET 8 SEE DESK 3"}, caption="a ticket hall")
    reasoner, _, _ = make(hall)
    answer = await ask(reasoner, "Ticket 8 points to a desk: what code did the desk show?")
    assert answer.answer == "I have not seen desk 3, which the evidence pointed to."
    assert answer.evidence[0].start_s == 20 and answer.evidence[0].hop == 0


# --- time --------------------------------------------------------------------------------------------


async def test_when_answers_every_separate_sighting_in_full():
    reasoner, _, llm = make()
    answer = await ask(reasoner, "When was bay 17 shown?")
    assert answer.answer == "0:50-1:00 in dock; also 4:10-4:30 in dock"
    assert answer.method == AnswerMethod.TIME
    assert [(e.start_s, e.end_s) for e in answer.evidence[:2]] == [(50, 60), (250, 270)]
    assert llm.calls == []


async def test_how_many_times_counts_the_sightings():
    reasoner, _, _ = make()
    answer = await ask(reasoner, "How many times did bay 17 appear?")
    assert answer.answer.startswith("2 times") and answer.method == AnswerMethod.COUNT


async def test_how_long_measures_the_sighting():
    reasoner, _, _ = make()
    answer = await ask(reasoner, 'How long was "GATE CLOSED" on screen?')
    seconds = int(re.search(r"about (\d+) seconds", answer.answer).group(1))
    assert 26 <= seconds <= 32 and answer.method == AnswerMethod.DURATION


async def test_the_asks_time_range_limits_the_evidence():
    reasoner, _, _ = make()
    answer = await ask(reasoner, "When was bay 17 shown?", time_range=TimeRange(200, 300))
    assert answer.answer == "4:10-4:30 in dock"


async def test_time_words_in_the_question_limit_the_evidence():
    reasoner, _, _ = make()
    answer = await ask(reasoner, "How many times was bay 17 shown between 3:20 and 5:00?")
    assert answer.answer.startswith("1 time (4:10-4:30")


async def test_what_came_next_reads_the_timeline_after_the_sighting():
    shown = {(100, 110): "TRAIN 7 ARRIVING", (110, 120): "TRAIN 7 DEPARTED"}
    reasoner, _, _ = make(scene("platform", 300, shown, caption="a platform"))
    answer = await ask(reasoner, "What was shown right after train 7 arriving?")
    assert answer.answer == "TRAIN 7 DEPARTED" and answer.evidence[0].start_s == 110


async def test_what_was_shown_over_a_span_leaves_out_what_is_always_on_screen():
    shown = {(0, 300): "PLATFORM 2", (100, 120): "DELAYED 10 MIN"}
    reasoner, _, _ = make(scene("platform", 300, shown, caption="a platform"))
    answer = await ask(reasoner, "What was on the board between 1:40 and 2:00?")
    assert answer.answer == "DELAYED 10 MIN" and answer.method == AnswerMethod.SUMMARY


@pytest.mark.parametrize(("number", "said"), [("42", "Yes: 3:20-3:30 in dock"), ("43", "No: I have not seen")])
async def test_yes_no_questions(number, said):
    reasoner, _, _ = make()
    answer = await ask(reasoner, f"Was locker {number} shown?")
    assert answer.answer.startswith(said) and answer.method == AnswerMethod.YES_NO


async def test_evidence_of_a_live_stream_keeps_its_wall_clock():
    live = scene("gate", 60, {(10, 14): "LOCKER 42 CODE 5531"}, wall_ms=1_796_299_200_000)
    reasoner, _, _ = make(live)
    answer = await ask(reasoner, "What was the code for locker 42?")
    assert (answer.evidence[0].start_wall_ms, answer.evidence[0].end_wall_ms) == (1_796_299_210_000, 1_796_299_212_000)


# --- the LLM and deadlines ---------------------------------------------------------------------------


async def test_a_described_question_goes_to_the_llm_and_a_grounded_reply_is_kept():
    clips = scene("yard", 60, caption="a man in a blue coat unloads boxes from the van")
    reasoner, _, llm = make(clips, FakeLLM(generation=" unloads boxes\n"))
    answer = await ask(reasoner, "What did the man in the blue coat do?")
    assert answer.answer == "unloads boxes" and answer.method == AnswerMethod.GENERATED
    assert llm.steps() == ["generate"]


async def test_an_llm_that_raises_still_yields_an_answer_from_the_evidence_marked_as_such():
    class BrokenLLM(FakeLLM):
        def generate(self, prompt, max_new_tokens, stop=(), images=()):
            raise ConnectionError("the model server went away")

    clips = scene("yard", 60, caption="a man in a blue coat unloads boxes from the van")
    reasoner, _, _ = make(clips, BrokenLLM())
    answer = await ask(reasoner, "What did the man in the blue coat do?")
    assert answer.method == AnswerMethod.EXTRACTIVE and answer.answer in clips[0].text
    assert "the LLM failed (ConnectionError" in answer.fallback


async def test_a_tiny_deadline_returns_a_partial_answer_in_time():
    clock = FakeClock()
    memory = FakeMemory(clips=list(DOCK), clock=clock, call_s=0.2)  # each memory call takes 200 ms
    reasoner, _, _ = make(memory=memory, clock=clock)
    started = clock()
    answer = await ask(reasoner, "When was bay 17 shown?", deadline_ms=500)
    assert answer.partial
    assert (clock() - started) * 1000 <= 500 + 200  # at most the memory call under way when it came
    assert answer.latency_ms <= 700


async def test_a_deadline_spent_before_memory_answers_is_a_partial_not_seen_not_an_error():
    clock = FakeClock()
    memory = FakeMemory(clips=list(DOCK), clock=clock, call_s=10.0)
    reasoner, _, _ = make(memory=memory, clock=clock)
    answer = await ask(reasoner, "What was the code for locker 42?", deadline_ms=1000)
    assert answer.partial and answer.method == AnswerMethod.NOT_SEEN and "deadline" in answer.answer


async def test_the_node_budget_ends_the_search_partial():
    reasoner, _, _ = make(busy_dock(), search_k=2, node_budget=5)
    answer = await ask(reasoner, "What was the code for locker 42?")
    assert answer.partial and answer.method == AnswerMethod.NOT_SEEN
    assert "before the node budget ended the search" in answer.answer


async def test_progress_names_the_nodes_read_and_ends_with_the_answer():
    reasoner, _, _ = make()
    events = []
    answer = await ask(reasoner, "What was the code for locker 42?", progress=events.append)
    assert events[0].step == "plan" and events[-1].step == "answer" and events[-1].detail == answer.answer
    assert [e.elapsed_ms for e in events] == sorted(e.elapsed_ms for e in events)
    assert answer.nodes_read > 0


async def test_nodes_read_grow_slowly_with_history():
    def dock(hours):
        shown = {(3000.0 * i, 3000.0 * i + 4): f"LOCKER {50 + i} CODE {1000 + i}" for i in range(int(hours))}
        shown[(1000, 1004)] = "LOCKER 42 CODE 5531"
        return scene("dock", 3600 * hours, shown)

    read = []
    for hours in (0.5, 8):
        reasoner, _, _ = make(dock(hours))
        answer = await ask(reasoner, "What was the code for locker 42?")
        assert answer.answer == "5531"
        read.append(answer.nodes_read)
    assert read[1] < 16 * read[0]  # sixteen times the history, far fewer than sixteen times the nodes


# --- summaries ---------------------------------------------------------------------------------------


async def test_a_summary_reads_the_hierarchy_not_every_clip():
    reasoner, memory, _ = make()
    summary = await reasoner.summarize(SummarizeQuery("dock", TimeRange(0, 600)))
    assert summary.text and summary.evidence and not summary.partial
    assert summary.nodes_read < len(DOCK) / 4
    assert {e.level for e in summary.evidence} != {0}


async def test_a_summary_of_an_unknown_stream_is_not_found():
    reasoner, _, _ = make()
    with pytest.raises(NotFound, match="'gate'"):
        await reasoner.summarize(SummarizeQuery("gate"))


async def test_a_model_that_sees_images_gets_the_evidences_keyframes():
    clips = [
        replace(node, keyframe_ids=(f"yard@kf{index}",))
        for index, node in enumerate(scene("yard", 20, caption="a man in a blue coat unloads boxes from the van"))
    ]
    llm = FakeLLM(generation=" unloads boxes", sees_images=True)
    reasoner, _, _ = make(clips, llm)
    answer = await ask(reasoner, "What did the man in the blue coat do?")
    assert answer.answer == "unloads boxes"
    assert llm.images[0] and all(image.startswith(b"jpeg of yard@kf") for image in llm.images[0])


async def test_a_text_model_is_not_sent_images():
    clips = [replace(node, keyframe_ids=("yard@kf",)) for node in scene("yard", 20, caption="a man unloads boxes")]
    reasoner, memory, llm = make(clips, FakeLLM(generation=" unloads boxes"))
    await ask(reasoner, "What did the man do?")
    assert llm.images == [[]] and not [call for call in memory.calls if call[0] == "keyframes"]


LIVE_START_MS = 1_796_299_200_000  # 2026-12-03 12:00:00 UTC


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("When was bay 17 shown between 12:03 and 12:05?", "4:10-4:30 in dock (2026-12-03T12:04:10Z/12:04:30Z)"),
        ("When was bay 17 shown in the last 6 minutes?", "4:10-4:30 in dock (2026-12-03T12:04:10Z/12:04:30Z)"),
    ],
)
async def test_a_live_streams_time_words_are_wall_clock_times(question, answer):
    live = scene("dock", 600, {(50, 60): "BAY 17 OPEN", (250, 270): "BAY 17 OPEN"}, wall_ms=LIVE_START_MS)
    reasoner, _, _ = make(live)
    assert (await ask(reasoner, question)).answer == answer


async def test_a_time_of_day_asked_of_a_file_is_invalid_saying_what_to_ask():
    reasoner, _, _ = make()
    with pytest.raises(InvalidArgument, match="like 4:30"):
        await ask(reasoner, "When was bay 17 shown after 2 pm?")


async def test_the_spelling_most_clips_read_wins_and_letters_beat_digits_inside_words():
    shown = {(100, 102): "PARCEL 9 DEST GEN0A", (102, 106): "PARCEL 9 DEST GENOA", (106, 108): "PARCEL 9 DEST GEN0A"}
    reasoner, _, _ = make(scene("dock", 300, shown))
    assert (await ask(reasoner, "What destination did parcel 9 show?")).answer == "GENOA"


PLATFORM_95 = {(100, 104): "PLATFORM 95 TO BANGOR", (104, 108): "PLATFORM 95 TICKET CODE WZ1K"}


async def test_with_no_line_labelling_what_is_asked_the_llm_judges_between_the_lines_naming_the_thing():
    llm = FakeLLM(scorer=lambda text: 1.0 if "BANGOR" in text else 0.0)
    reasoner, _, _ = make(scene("platform", 300, PLATFORM_95, caption="a platform"), llm)
    answer = await ask(reasoner, "Which destination went with platform 95?")
    assert (answer.answer, answer.method) == ("TO BANGOR", AnswerMethod.SCORED) and answer.confidence <= 0.5
    assert llm.scored == [[" TO BANGOR", " TICKET CODE WZ1K"]]


async def test_without_an_llm_to_judge_the_lines_naming_the_thing_are_shown():
    llm = FakeLLM(can_score=False)
    reasoner, _, _ = make(scene("platform", 300, PLATFORM_95, caption="a platform"), llm)
    answer = await ask(reasoner, "Which destination went with platform 95?")
    assert answer.answer == "PLATFORM 95 TO BANGOR | PLATFORM 95 TICKET CODE WZ1K" and answer.confidence < 0.5
    assert "cannot rank" in answer.fallback


async def test_a_thing_named_in_two_streams_with_different_values_gets_both_with_their_streams():
    reasoner, _, _ = make([*DOCK, *YARD])
    answer = await ask(reasoner, "What was the code for locker 42?")
    assert answer.answer in ("5531 in dock; 7777 in yard", "7777 in yard; 5531 in dock")
    assert {e.stream_id for e in answer.evidence[:2]} == {"dock", "yard"}


EVENTS = scene(
    "dock",
    600,
    {(100, 110): "LOCKER 42 CODE 1111", (300, 310): "LOCKER 42 CODE 2222", (212, 220): "GATE 2 CLOSED"},
)
EVENTS[100] = replace(EVENTS[100], text="a red truck leaves the loading dock")  # at 3:20


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("What code did locker 42 show after the truck left?", "2222"),
        ("What code did locker 42 show before the truck left?", "1111"),
        ("What was on the screen right after the truck left?", "GATE 2 CLOSED"),
    ],
)
async def test_times_relative_to_an_event_are_read_from_when_the_event_was_seen(question, said):
    reasoner, _, _ = make(EVENTS)
    answer = await ask(reasoner, question)
    assert answer.answer == said
    assert any(e.start_s == 200 for e in answer.evidence)  # the event is cited


async def test_an_event_never_seen_makes_the_question_not_seen():
    reasoner, _, _ = make(EVENTS)
    answer = await ask(reasoner, "What code did locker 42 show after the helicopter landed?")
    assert answer.answer.startswith("I have not seen the helicopter landed")


async def test_questions_in_a_burst_share_one_stats_call_for_a_moment():
    clock = FakeClock()
    reasoner, memory, _ = make(clock=clock)
    for _ in range(3):
        await ask(reasoner, "What was the code for locker 42?", streams=["dock"])
    assert [call[0] for call in memory.calls].count("stats") == 1
    clock.advance(5.0)
    await ask(reasoner, "What was the code for locker 42?", streams=["dock"])
    assert [call[0] for call in memory.calls].count("stats") == 2


async def test_when_something_never_seen_appeared_is_not_seen_rather_than_the_nearest_clip():
    reasoner, _, _ = make()
    answer = await ask(reasoner, "When did the giraffe appear?")
    assert answer.method == AnswerMethod.NOT_SEEN and answer.answer.startswith("I have not seen")


@pytest.mark.parametrize("question", ["What did the sign at the gate say?", "What did the gate's board show?"])
async def test_what_something_said_is_its_whole_line(question):
    reasoner, _, _ = make(scene("gate", 60, {(10, 20): "GATE B CLOSED"}, caption="a car park gate"))
    assert (await ask(reasoner, question)).answer == "GATE B CLOSED"
