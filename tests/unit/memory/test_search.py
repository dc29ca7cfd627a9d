"""Search over the short-term window: exact names and numbers outrank near meanings; filters keep to
streams and times; floods of one text leave room for the others. (The walk down the hierarchy is
tested in test_hierarchy.py.)"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pytest

from longwatch.errors import InvalidArgument
from longwatch.types import ClipRecord
from memory_service.core import store as store_module
from memory_service.core.chroma import ChromaConnection, ChromaLocation
from memory_service.core.hierarchy import Frontier, NodeCache
from memory_service.core.nodes import NodeStore
from memory_service.core.search import HierarchySearcher, TreeReader, exact_terms, validate_query
from memory_service.core.store import ClipStore, clip_metadata, clip_node, match_form, match_words
from memory_service.core.types import SearchLimits, SearchQuery, WalEntry
from tests.unit.memory.fakes import FakeEmbedder


def clip(stream_id: str, start_s: float, caption: str, ocr: tuple[str, ...] = (), length_s: float = 4.0) -> ClipRecord:
    return ClipRecord(stream_id=stream_id, start_s=start_s, end_s=start_s + length_s, caption=caption, ocr_lines=ocr)


@dataclass
class Window:
    """Clips in the store and in the frontier, unconsolidated: what a search reads first."""

    clips: ClipStore
    tree: TreeReader


@pytest.fixture
def store(tmp_path, embedder):
    clip_store = ClipStore(ChromaConnection(ChromaLocation(tmp_path / "chroma")), embedder.name, embedder.dim)
    clip_store.open()
    nodes = NodeStore(embedder.name, embedder.dim)
    nodes.open(clip_store.connection.client)
    yield Window(clip_store, TreeReader(clip_store, nodes, Frontier(), NodeCache(100)))
    clip_store.close()


def fill(store: Window, embedder: FakeEmbedder, records: list[ClipRecord]) -> None:
    vectors = embedder.embed([record.text for record in records])
    entries = [WalEntry(clip=record, embedding=vector) for record, vector in zip(records, vectors, strict=True)]
    store.clips.upsert(entries)
    store.tree.frontier.add(
        replace(
            clip_node(entry.clip.clip_id, clip_metadata(entry.clip), match_form(entry.clip.text), entry.embedding, seq)
        )
        for seq, entry in enumerate(entries)
    )


def store_only(store: Window, embedder: FakeEmbedder, records: list[ClipRecord]) -> None:
    """Clips in the store but not in the frontier (consolidated away): a search reaches them only
    through chromadb, by its vector index or by a term lookup."""
    vectors = embedder.embed([record.text for record in records])
    store.clips.upsert(
        [WalEntry(clip=record, embedding=vector) for record, vector in zip(records, vectors, strict=True)]
    )


def search(store: Window, embedder, text, limits: SearchLimits | None = None, **query_fields):
    limits = limits or SearchLimits()
    query = SearchQuery(text=text, **query_fields)
    validate_query(query, limits)
    return list(HierarchySearcher(store.tree, limits, beam=4).rank(query, embedder.embed([text])[0]).hits)


PLATE_QUERY = "which red car had the plate KX-4721"
NEAR_MEANING = clip("gate", 10, "a red car had a plate", ("KX-4712",))  # the words, the wrong plate
EXACT_PLATE = clip("gate", 50, "a vehicle drives out", ("KX 4721",))


def test_an_exact_plate_number_beats_a_semantically_near_clip(store, embedder):
    fill(store, embedder, [NEAR_MEANING, EXACT_PLATE])
    hits = search(store, embedder, PLATE_QUERY)
    assert [hit.clip_id for hit in hits] == [EXACT_PLATE.clip_id, NEAR_MEANING.clip_id]
    assert hits[0].text == "a vehicle drives out. text on screen: KX 4721"


def test_without_the_bonus_the_near_meaning_wins(store, embedder):
    fill(store, embedder, [NEAR_MEANING, EXACT_PLATE])
    hits = search(store, embedder, PLATE_QUERY, SearchLimits(exact_term_bonus=0.0))
    assert hits[0].clip_id == NEAR_MEANING.clip_id  # the fake embedder blurs numbers, as real ones do
    assert hits[0].score == pytest.approx(max(hit.score for hit in hits))


def test_an_exact_match_outside_the_vector_candidates_is_still_found(store, embedder):
    distractors = [clip("gate", 100 + i, f"a red car had a plate number {i}") for i in range(30)]
    fill(store, embedder, [*distractors, EXACT_PLATE])
    hits = search(store, embedder, PLATE_QUERY, SearchLimits(candidates=3), k=3)
    assert hits[0].clip_id == EXACT_PLATE.clip_id
    assert len(hits) == 3


def test_numbers_match_whole_words_only(store, embedder):
    exit_42 = clip("gate", 0, "a sign", ("EXIT 42",))
    exit_425 = clip("gate", 10, "a sign", ("EXIT 425",))
    fill(store, embedder, [exit_425, exit_42])
    hits = search(store, embedder, "the sign that said 42")
    assert hits[0].clip_id == exit_42.clip_id
    assert hits[0].score - hits[1].score == pytest.approx(SearchLimits().exact_term_bonus, abs=1e-4)


LOCKER_QUERY = "code of locker 42"
LOCKER_42 = clip("hall", 500, "a hand types a code on a locker keypad", ("L0CKER42 C0DE 5531",))


def test_a_locker_read_run_together_and_confused_is_found_first_among_many(store, embedder):
    near = [
        clip("hall", 4.0 * i, "a hand types a code on a locker keypad", (f"LOCKER {number} CODE {1000 + i}",))
        for i, number in enumerate([41, 421, 4, 142, 43] * 8)
    ]
    others = [clip("yard", 4.0 * i, f"a person walks past the lockers {i}") for i in range(40)]
    store_only(store, embedder, [*near, *others, LOCKER_42])
    hits = search(store, embedder, LOCKER_QUERY, SearchLimits(candidates=5), k=5)
    assert hits[0].clip_id == LOCKER_42.clip_id
    assert hits[0].score - hits[1].score > SearchLimits().exact_term_bonus / 2


def test_another_locker_number_gets_no_bonus(store, embedder):
    locker_41 = clip("hall", 0, "a locker", ("LOCKER 41",))
    locker_42 = clip("hall", 10, "a locker", ("LOCKER 42",))
    fill(store, embedder, [locker_41, locker_42])
    with_bonus = {hit.clip_id: hit.score for hit in search(store, embedder, "what is in locker 42")}
    without = {
        hit.clip_id: hit.score
        for hit in search(store, embedder, "what is in locker 42", SearchLimits(exact_term_bonus=0.0))
    }
    assert with_bonus[locker_41.clip_id] == pytest.approx(without[locker_41.clip_id], abs=1e-6)
    bonus = with_bonus[locker_42.clip_id] - without[locker_42.clip_id]
    assert bonus == pytest.approx(SearchLimits().exact_term_bonus, abs=1e-6)


def test_a_name_read_with_a_dropped_letter_counts_a_little_less(store, embedder):
    exact = clip("dock", 0, "a sign", ("WAREHOUSE",))
    dropped = clip("dock", 10, "a sign", ("WAREHOSE",))
    elsewhere = clip("dock", 20, "a sign", ("GARAGE",))
    fill(store, embedder, [elsewhere, dropped, exact])
    hits = search(store, embedder, "the sign of the WAREHOUSE")
    assert [hit.clip_id for hit in hits] == [exact.clip_id, dropped.clip_id, elsewhere.clip_id]
    bonus = SearchLimits().exact_term_bonus
    # the fake embedder reads "warehouse" and "warehose" as different words: compare with the bonus off
    plain = {
        hit.clip_id: hit.score
        for hit in search(store, embedder, "the sign of the WAREHOUSE", SearchLimits(exact_term_bonus=0.0))
    }
    scores = {hit.clip_id: hit.score for hit in hits}
    assert scores[exact.clip_id] - plain[exact.clip_id] == pytest.approx(bonus, abs=1e-6)
    assert 0 < scores[dropped.clip_id] - plain[dropped.clip_id] < bonus


def test_the_term_lookup_finds_clips_only_where_the_term_matches(store, embedder):
    wrong_numbers = [clip("hall", 4.0 * i, "a locker", (f"LOCKER {number}",)) for i, number in enumerate([421, 4210])]
    store_only(store, embedder, [*wrong_numbers, LOCKER_42])
    hits = search(store, embedder, LOCKER_QUERY, SearchLimits(candidates=1), k=3)
    # the vector index gives one seed; the lookup finds the rest and keeps only the real locker 42
    found = {hit.clip_id for hit in hits}
    assert LOCKER_42.clip_id in found
    assert len(found - {LOCKER_42.clip_id}) <= 1  # at most the seed itself


def test_clips_stored_before_the_compact_form_are_still_found_by_whole_words(store, embedder, monkeypatch):
    old = clip("hall", 0, "a sign", ("LOCKER 42",))
    distractors = [clip("hall", 10 + i, "a locker code keypad") for i in range(20)]
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "match_form", lambda text: f" {match_words(text)} ")
        store_only(store, embedder, [old])
    store_only(store, embedder, distractors)
    hits = search(store, embedder, LOCKER_QUERY, SearchLimits(candidates=2), k=3)
    assert hits[0].clip_id == old.clip_id


def test_stream_filter_keeps_to_the_named_streams(store, embedder):
    fill(store, embedder, [clip("gate", 0, "a red car"), clip("dock", 0, "a red car"), clip("yard", 0, "a red car")])
    hits = search(store, embedder, "red car", stream_ids=("dock", "yard"))
    assert sorted(hit.stream_id for hit in hits) == ["dock", "yard"]
    assert search(store, embedder, "red car", stream_ids=("no-such-stream",)) == []


@pytest.mark.parametrize(
    ("start_s", "end_s", "expected_starts"),
    [
        (0.0, 0.0, [0.0, 10.0, 20.0]),  # no range
        (12.0, 0.0, [10.0, 20.0]),  # open end; the clip 10-14 overlaps 12
        (0.0, 9.0, [0.0]),  # the clip 0-4 only
        (13.9, 20.0, [10.0, 20.0]),  # the range's end touching a clip's start counts as overlap
        (14.0, 20.0, [20.0]),  # a clip spans [start, end): the clip 10-14 ends where the range begins
        (15.0, 19.0, []),  # a gap between clips
    ],
)
def test_time_filter_keeps_clips_overlapping_the_range(store, embedder, start_s, end_s, expected_starts):
    fill(store, embedder, [clip("gate", start, "a red car") for start in (0.0, 10.0, 20.0)])
    hits = search(store, embedder, "red car", start_s=start_s, end_s=end_s)
    assert sorted(hit.start_s for hit in hits) == expected_starts


def test_k_limits_the_hits_and_scores_are_descending(store, embedder):
    fill(store, embedder, [clip("gate", float(i), f"car {'red ' * (i % 3)}") for i in range(20)])
    hits = search(store, embedder, "red car", k=5)
    assert len(hits) == 5
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_an_empty_store_returns_no_hits(store, embedder):
    assert search(store, embedder, "anything at all") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("which red car had the plate KX-4721?", ["kx 4721"]),
        ('did anyone say "open the gate" near EXIT 42', ["open the gate", "exit 42"]),
        ("What code did locker 42 show?", ["locker 42"]),  # a word before a number is its label
        ("code of locker 42", ["locker 42"]),
        ("WHAT IS IN LOCKER 42", ["locker 42"]),
        ("the sign that said 42", ["42"]),  # a function word or verb is no label
        ("was gate 7 open in the last 10 minutes", ["gate 7", "10"]),
        ("locker, 42", ["42"]),  # punctuation parts them
        ("plate KX 4721 at gate 3", ["kx 4721", "gate 3"]),
        ("what happened at 10:30 on camera B2", ["10 30", "b2"]),
        ("WHAT DID THE CAR DO", []),  # shouting is not a list of names
        ("ACME", ["acme"]),
        ("a person walks by", []),
        ("I saw it", []),
    ],
)
def test_exact_terms_are_names_numbers_and_quoted_phrases(text, expected):
    assert exact_terms(text, max_terms=8) == expected


def test_exact_terms_are_capped():
    assert exact_terms("1 2 3 4 5 6", max_terms=3) == ["1", "2", "3"]


def test_match_form_pads_case_folded_words_then_holds_the_compact_folded_form():
    assert match_form("Plate: KX-4721!  EXIT") == " plate kx 4721 exit |P1ATEKX4721EX1T"
    assert match_form("") == "  |"


@pytest.mark.parametrize(
    "fields",
    [
        {"text": ""},
        {"text": "   "},
        {"text": "x" * 3000},
        {"k": 0},
        {"k": 101},
        {"k": -1},
        {"start_s": -1.0},
        {"end_s": -5.0},
        {"start_s": 20.0, "end_s": 10.0},
        {"start_s": math.nan},
        {"end_s": math.inf},
        {"stream_ids": tuple(f"s{i}" for i in range(2000))},
    ],
)
def test_bad_queries_are_invalid_arguments(fields):
    query = SearchQuery(**{"text": "red car", **fields})
    with pytest.raises(InvalidArgument):
        validate_query(query, SearchLimits())


def test_good_edge_queries_pass():
    for fields in ({"k": 1}, {"k": 100}, {"start_s": 20.0, "end_s": 0.0}, {"start_s": 5.0, "end_s": 5.0}):
        validate_query(SearchQuery(**{"text": "red car", **fields}), SearchLimits())


FLOOD = [clip("flood", 4.0 * index, "a red car parked by the gate") for index in range(129)]


def test_a_flood_of_identical_clips_leaves_room_for_other_streams(store, embedder):
    fill(store, embedder, [*FLOOD, clip("gate", 8, "a red car drives in", ("KX 4721",))])
    hits = search(store, embedder, "a red car parked by the gate")
    most = SearchLimits().max_same_text
    assert [hit.stream_id for hit in hits[: most + 1]] == ["flood"] * most + ["gate"]
    assert len(hits) == 10  # repeats still fill the hits nothing else would


def test_repeats_of_one_text_are_all_returned_when_k_asks_for_them(store, embedder):
    fill(store, embedder, FLOOD[:40])
    hits = search(store, embedder, "a red car parked by the gate", k=100)
    assert {hit.clip_id for hit in hits} == {clip.clip_id for clip in FLOOD[:40]}


def test_a_flood_in_one_stream_leaves_room_for_its_other_texts(store, embedder):
    other = clip("flood", 9000, "a red car parked by the gate at night")
    fill(store, embedder, [*FLOOD, other])
    hits = search(store, embedder, "a red car parked by the gate", stream_ids=("flood",))
    assert other.clip_id in {hit.clip_id for hit in hits}
