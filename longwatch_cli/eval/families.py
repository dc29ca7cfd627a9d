"""Scene families for the evaluation streams: what each place shows, and how it looks.

None of them is the demo's car park. Each family has its own vocabulary (the things with numbers it
labels, the values it shows, the words that link one thing to the next in a chain) and its own look
(layout, font, sizes, colours, contrast, motion, sensor noise). The planner (plan.py) draws facts from
the vocabulary; the renderer (render.py) paints them in the family's style.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels of the 640 x 360 frame


class ValueKind(StrEnum):
    CODE = "code"  # letters and digits, rich in the ones OCR confuses (O/0, I/1, S/5, B/8, Z/2)
    NUMBER = "number"  # 3 or 4 digits
    PRICE = "price"  # 12.49
    WORD = "word"  # a word from the family's list


@dataclass(frozen=True)
class Attribute:
    label: str  # as shown on screen: "OFFER CODE"
    spoken: str  # as a question names it: "offer code"
    kind: ValueKind


@dataclass(frozen=True)
class Link:
    """How one thing points to the next in a multi-hop chain: "PARCEL 51 GOES TO BAY 17"."""

    shown: str  # "GOES TO"
    spoken: str  # "goes to"


@dataclass(frozen=True)
class Mover:
    """Something that crosses the scene now and then (a customer, a forklift, a train)."""

    box: Box  # its shape at x = 0
    colour: RGB
    period_s: float  # one crossing starts every period
    crossing_s: float  # and takes this long


@dataclass(frozen=True)
class Style:
    background: RGB
    panels: tuple[tuple[Box, RGB], ...]  # static furniture painted on the background
    main_slot: Box  # where the display shows its messages
    side_slot: Box  # a second panel on the same screen (distractors)
    slot_colour: RGB
    text_colour: RGB
    font_file: str  # a TrueType file name from matplotlib's fonts, or "" for Pillow's default
    font_px: int
    is_two_line: bool  # subject on one line, attribute and value on the next
    noise_sigma: float  # sensor noise, 8-bit grey levels
    mover: Mover
    signage: tuple[tuple[str, int, int], ...] = ()  # fixed text painted on the background: (text, x, y)


@dataclass(frozen=True)
class Family:
    name: str
    display: str  # how a question names the display: "the price display"
    subjects: tuple[tuple[str, str], ...]  # (shown label, spoken label): ("TILL", "till")
    attributes: tuple[Attribute, ...]
    links: tuple[Link, ...]
    words: tuple[str, ...]  # values of kind WORD
    style: Style


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            name="shop_counter",
            display="the price display",
            subjects=(("ITEM", "item"), ("TILL", "till"), ("ORDER", "order"), ("CARD", "card")),
            attributes=(
                Attribute("PRICE", "price", ValueKind.PRICE),
                Attribute("OFFER CODE", "offer code", ValueKind.CODE),
                Attribute("FLAVOUR", "flavour", ValueKind.WORD),
            ),
            links=(Link("PAID AT", "was paid at"), Link("USES", "uses"), Link("LINKED TO", "is linked to")),
            words=(
                "MANGO",
                "HAZEL",
                "GINGER",
                "CLOVE",
                "QUINCE",
                "SORREL",
                "BASIL",
                "MORELLO",
                "FENNEL",
                "PAPAYA",
                "NUTMEG",
                "LYCHEE",
                "SAFFRON",
                "TAMARIND",
                "BERGAMOT",
                "CASSIS",
                "DAMSON",
                "YUZU",
                "ANISE",
                "CARDAMOM",
                "GUAVA",
                "PEPPERMINT",
                "RHUBARB",
                "SESAME",
            ),
            style=Style(
                background=(182, 160, 128),
                panels=(((0, 250, 640, 360), (120, 84, 54)), ((330, 150, 620, 250), (60, 60, 66))),
                main_slot=(30, 30, 400, 120),
                side_slot=(420, 40, 630, 120),
                slot_colour=(8, 8, 8),
                text_colour=(255, 70, 40),
                font_file="DejaVuSansMono-Bold.ttf",
                font_px=22,
                is_two_line=True,
                noise_sigma=2.0,
                mover=Mover((0, 140, 70, 330), (70, 50, 90), period_s=290.0, crossing_s=9.0),
                signage=(("CORNER SHOP", 360, 170),),
            ),
        ),
        Family(
            name="warehouse_board",
            display="the board",
            subjects=(("BAY", "bay"), ("PALLET", "pallet"), ("PARCEL", "parcel"), ("DRIVER", "driver")),
            attributes=(
                Attribute("PALLET CODE", "pallet code", ValueKind.CODE),
                Attribute("WEIGHT KG", "weight", ValueKind.NUMBER),
                Attribute("DEST", "destination", ValueKind.WORD),
            ),
            links=(Link("GOES TO", "goes to"), Link("IS ON", "is on"), Link("TAKES", "takes")),
            words=(
                "LEEDS",
                "DERBY",
                "OSLO",
                "GENOA",
                "BREMEN",
                "TURKU",
                "LYON",
                "BILBAO",
                "GDANSK",
                "PORTO",
                "KIEL",
                "MALMO",
                "RIGA",
                "ANTWERP",
                "ROUEN",
                "TRIESTE",
                "VARNA",
                "CADIZ",
                "BERGEN",
                "AARHUS",
                "LIMOGES",
                "BRNO",
                "ZADAR",
                "SEVILLE",
            ),
            style=Style(
                background=(120, 124, 118),
                panels=(((0, 0, 640, 20), (90, 90, 84)), ((20, 20, 620, 200), (236, 236, 228))),
                main_slot=(40, 40, 600, 110),
                side_slot=(40, 120, 600, 190),
                slot_colour=(236, 236, 228),
                text_colour=(20, 40, 140),
                font_file="DejaVuSans-Bold.ttf",
                font_px=30,
                is_two_line=False,
                noise_sigma=3.5,
                mover=Mover((0, 210, 150, 340), (230, 170, 20), period_s=350.0, crossing_s=10.0),
            ),
        ),
        Family(
            name="lab_readout",
            display="the instrument screen",
            subjects=(("SAMPLE", "sample"), ("CHANNEL", "channel"), ("RACK", "rack"), ("TUBE", "tube")),
            attributes=(
                Attribute("READING", "reading", ValueKind.PRICE),
                Attribute("BATCH", "batch", ValueKind.CODE),
                Attribute("REAGENT", "reagent", ValueKind.WORD),
            ),
            links=(Link("IN", "is in"), Link("READ BY", "is read by"), Link("FEEDS", "feeds")),
            words=(
                "XYLENE",
                "ETHANOL",
                "BORATE",
                "CITRATE",
                "GLYCINE",
                "TRIS",
                "HEPES",
                "PHENOL",
                "ACETONE",
                "UREA",
                "SUCROSE",
                "TOLUENE",
                "HEXANE",
                "PYRIDINE",
                "GLYCEROL",
                "LACTATE",
                "NITRATE",
                "IODINE",
                "MALTOSE",
                "ARGININE",
                "CHOLINE",
                "FORMALIN",
                "BIOTIN",
                "CASEIN",
            ),
            style=Style(
                background=(40, 44, 48),
                panels=(((60, 20, 580, 240), (14, 20, 14)), ((0, 280, 640, 360), (200, 200, 205))),
                main_slot=(80, 40, 560, 130),
                side_slot=(80, 150, 560, 220),
                slot_colour=(14, 20, 14),
                text_colour=(90, 255, 120),
                font_file="DejaVuSansMono.ttf",
                font_px=26,
                is_two_line=True,
                noise_sigma=5.0,
                mover=Mover((0, 250, 40, 360), (230, 230, 240), period_s=230.0, crossing_s=6.0),
                signage=(("SPECTRO-2", 500, 300),),
            ),
        ),
        Family(
            name="train_platform",
            display="the platform sign",
            subjects=(("TRAIN", "train"), ("PLATFORM", "platform"), ("COACH", "coach"), ("SERVICE", "service")),
            attributes=(
                Attribute("TO", "destination", ValueKind.WORD),
                Attribute("TICKET CODE", "ticket code", ValueKind.CODE),
                Attribute("SEATS", "free seats", ValueKind.NUMBER),
            ),
            links=(Link("CALLS AT", "calls at"), Link("JOINS", "joins"), Link("BECOMES", "becomes")),
            words=(
                "HARLOW",
                "KESWICK",
                "TRURO",
                "BANGOR",
                "ELY",
                "WIGAN",
                "STROUD",
                "PENRITH",
                "DOVER",
                "BUXTON",
                "REDRUTH",
                "WHITBY",
                "LUDLOW",
                "SELBY",
                "HEXHAM",
                "OBAN",
                "TENBY",
                "MORPETH",
                "RYDE",
                "BUDE",
                "THIRSK",
                "MATLOCK",
                "SKIPTON",
                "WELLS",
            ),
            style=Style(
                background=(150, 170, 190),
                panels=(((0, 300, 640, 360), (110, 110, 110)), ((100, 10, 540, 150), (10, 20, 70))),
                main_slot=(110, 20, 530, 80),
                side_slot=(110, 85, 530, 140),
                slot_colour=(10, 20, 70),
                text_colour=(255, 200, 0),
                font_file="",
                font_px=28,
                is_two_line=False,
                noise_sigma=2.5,
                mover=Mover((0, 170, 420, 300), (160, 30, 40), period_s=410.0, crossing_s=8.0),
            ),
        ),
    )
}


def family_names() -> list[str]:
    return list(FAMILIES)


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown scene family {name!r}; choose from {', '.join(FAMILIES)}") from None
