"""Flash Memory (Flash-VStream's idea), per stream and of fixed size: what the stream has shown so far.

- Context synopsis memory: at most K slots, kept by an online weighted spherical k-means over the frames'
  global features. Each slot has a centroid (D,), a weight (frames merged) and a time span. The weights
  are the stream's information-density distribution: a static hour is one heavy slot.
- Detail augmentation memory: at most D_max keyframes, at most one per slot, for the heaviest slots: the
  frame nearest its slot's centroid, chosen when it arrives (write time), kept as JPEG with its merged
  patch tokens (at most the token budget each). RAM: K centroids, D_max JPEGs and token sets, nothing more.

Features: the frame's global feature, not pooled patch tokens. Every encoder gives it (pixel statistics
has no patches), it is what memory searches with, and at D <= 1152 the synopsis is at most K x 4.5 KB.

One update per frame (sampled, encoded or reused), O(K D):
1. the frame's similarity to every centroid: one (K, D) @ (D,) product;
2. a frame with the very feature of a slot (a frame-cache reuse) is merged into it. With fewer than K slots,
   the frame opens one. Otherwise, if it is nearer its nearest centroid than the two closest centroids are
   to each other, it is merged into that slot (weighted mean, renormalised); if not, those two slots merge
   and the frame takes the freed slot, so a rare scene keeps a slot of its own;
3. each changed slot's row of the (K, K) centroid similarity matrix is recomputed: one more product each.
The closest pair is found without scanning all pairs: every slot keeps its nearest other slot and an upper
bound of that similarity, raised in O(K) when a slot changes; a bound left stale when a slot's nearest moved
away is only corrected (one O(K) row scan) when it reaches the top. `rows_rescanned` counts those scans.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from longwatch.errors import FailedPrecondition, InvalidArgument
from perception.core.overview import DetailFrame, StreamOverview, SynopsisSlot
from perception.core.token_merge import MergedTokens

logger = logging.getLogger(__name__)

_NO_SIMILARITY = -np.inf  # the similarity of a slot to itself and to unused slots: never the nearest
# A frame this similar to a centroid shows nothing new (a frame-cache reuse has the very same feature): it
# is merged into that slot even while slots are free, so a static start does not fill the synopsis with copies.
_SAME_FEATURE_COSINE = 1.0 - 1e-6


@dataclass(frozen=True)
class FlashConfig:
    max_slots: int = 60  # K: synopsis slots
    max_details: int = 30  # D_max: detail frames; at most one per slot, so at most max_slots

    def __post_init__(self) -> None:
        if self.max_slots < 1:
            raise InvalidArgument(f"the synopsis needs at least 1 slot, not {self.max_slots}")
        if not 0 <= self.max_details <= self.max_slots:
            raise InvalidArgument(
                f"detail frames ({self.max_details}) must be between 0 and the synopsis slots ({self.max_slots}): "
                "each stands for one slot"
            )


@dataclass(eq=False)
class Detail:
    """One frame of the detail memory. The pipeline gets it from `add` and hands its JPEG back."""

    slot: int
    t_s: float
    feature: np.ndarray  # (D,) float32, unit length
    similarity: float  # cosine to its slot's centroid when chosen
    tokens: MergedTokens | None  # the frame's merged patch tokens (None when the encoder gives no patches)
    jpeg: bytes | None = None  # None until encoded on the keyframe thread

    @property
    def token_count(self) -> int:
        return len(self.tokens) if self.tokens is not None else 0


class FlashMemory:
    """One stream's synopsis and detail memory; used from the event loop only (not thread-safe)."""

    def __init__(self, config: FlashConfig) -> None:
        self.config = config
        self.frames_merged = 0  # frames taken in; the slots' weights sum to it
        self.slot_merges = 0  # times two slots merged to give a new frame its own
        self.rows_rescanned = 0  # O(K) scans of a stale nearest-slot bound (see the module docstring)
        self.centroid_products = 0  # (K, D) @ (D,) products: 1 per frame plus 1 per changed slot
        self._count = 0  # slots in use
        self._dim = 0  # D, fixed by the first frame
        self._details: dict[int, Detail] = {}  # slot -> its detail frame

    @property
    def slot_count(self) -> int:
        return self._count

    @property
    def detail_count(self) -> int:
        return len(self._details)

    def add(self, feature: np.ndarray, t_s: float, tokens: MergedTokens | None = None) -> Detail | None:
        """Takes in one frame's (D,) feature seen at `t_s` (and its merged patch tokens, kept if it becomes a
        detail frame); returns its Detail if the detail memory chose it (the caller encodes the JPEG and
        calls `attach_jpeg`), else None."""
        unit = self._checked(feature)  # (D,)
        similarity = self._centroids[: self._count] @ unit  # (n,) cosine to every centroid
        self.centroid_products += 1
        self.frames_merged += 1
        nearest = int(np.argmax(similarity)) if self._count else -1
        if nearest >= 0 and similarity[nearest] >= _SAME_FEATURE_COSINE:
            slot = self._absorb(nearest, unit, t_s)
        elif self._count < self.config.max_slots:
            slot = self._open(unit, t_s)
        else:
            slot = self._place(unit, t_s, similarity, nearest)
        return self._offer_detail(slot, unit, t_s, tokens)

    def attach_jpeg(self, detail: Detail, jpeg: bytes | None) -> None:
        """The detail frame's JPEG; None (too large to keep) drops it. A detail evicted meanwhile stays out."""
        if self._details.get(detail.slot) is not detail:
            return
        if jpeg is None:
            del self._details[detail.slot]
        else:
            detail.jpeg = jpeg

    def overview(self, stream_id: str) -> StreamOverview:
        """Slots heaviest first; the detail frames whose JPEG is ready, in time order."""
        count = self._count
        order = np.argsort(-self._weights[:count], kind="stable") if count else np.zeros(0, dtype=np.int64)
        position = {int(slot): index for index, slot in enumerate(order)}
        slots = tuple(self._slot_view(int(slot)) for slot in order)
        details = sorted(
            (
                DetailFrame(t_s=d.t_s, slot=position[d.slot], similarity=d.similarity, jpeg=d.jpeg)
                for d in self._details.values()
                if d.jpeg is not None
            ),
            key=lambda detail: detail.t_s,
        )
        return StreamOverview(
            stream_id=stream_id,
            slots=slots,
            details=tuple(details),
            max_slots=self.config.max_slots,
            max_details=self.config.max_details,
            frames_merged=self.frames_merged,
        )

    def nearest(self, feature: np.ndarray) -> tuple[SynopsisSlot, float]:
        """The slot whose centroid is nearest a (D,) feature, as the overview shows it, and their cosine."""
        if self._count == 0:
            raise FailedPrecondition("the synopsis holds no slot yet: no frame has been taken in")
        similarity = self._centroids[: self._count] @ self._checked(feature)  # (n,)
        slot = int(np.argmax(similarity))
        return self._slot_view(slot), float(similarity[slot])

    def token_counts(self) -> dict[float, int]:
        """Merged patch tokens kept per detail frame, by its time (the overview carries no arrays)."""
        return {detail.t_s: detail.token_count for detail in self._details.values()}

    # The synopsis ------------------------------------------------------------------------------

    def _slot_view(self, slot: int) -> SynopsisSlot:
        return SynopsisSlot(
            weight=int(self._weights[slot]), start_s=float(self._start_s[slot]), end_s=float(self._end_s[slot])
        )

    def _checked(self, feature: np.ndarray) -> np.ndarray:
        vector = np.asarray(feature, dtype=np.float32)
        if vector.ndim != 1 or vector.shape[0] == 0:
            raise InvalidArgument(f"a frame feature must be a non-empty (D,) vector, not of shape {vector.shape}")
        if not np.all(np.isfinite(vector)):
            raise InvalidArgument("a frame feature must be finite; the encoder returned NaN or infinity")
        if self._dim == 0:
            self._allocate(vector.shape[0])
        elif vector.shape[0] != self._dim:
            raise InvalidArgument(
                f"a frame feature has {vector.shape[0]} dimensions but this stream's synopsis has {self._dim}: "
                "one stream keeps one encoder"
            )
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def _allocate(self, dim: int) -> None:
        slots = self.config.max_slots
        self._dim = dim
        self._centroids = np.zeros((slots, dim), dtype=np.float32)  # (K, D) unit rows
        self._weights = np.zeros(slots, dtype=np.int64)  # (K,) frames merged per slot
        self._start_s = np.zeros(slots, dtype=np.float64)  # (K,)
        self._end_s = np.zeros(slots, dtype=np.float64)  # (K,)
        self._similarity = np.full((slots, slots), _NO_SIMILARITY, dtype=np.float32)  # (K, K) centroid cosines
        self._nearest = np.zeros(slots, dtype=np.int64)  # (K,) each slot's nearest other slot
        self._nearest_bound = np.full(slots, _NO_SIMILARITY, dtype=np.float32)  # (K,) >= cosine to it

    def _place(self, unit: np.ndarray, t_s: float, similarity: np.ndarray, nearest: int) -> int:
        """All K slots in use: merge the frame into its nearest slot, or merge the closest pair and give
        the frame the freed slot. Returns the frame's slot."""
        if self._count >= 2:
            kept, freed, pair_similarity = self._closest_pair()
            if similarity[nearest] < pair_similarity:
                self._merge_slots(kept, freed)
                self._set_slot(freed, unit, weight=1, start_s=t_s, end_s=t_s)
                self.slot_merges += 1
                return freed
        return self._absorb(nearest, unit, t_s)

    def _absorb(self, slot: int, unit: np.ndarray, t_s: float) -> int:
        """Merges the frame into `slot`: the weighted mean of its centroid and the frame, renormalised."""
        weight = int(self._weights[slot])
        centroid = self._centroids[slot] * weight + unit  # (D,) weighted sum: the frame weighs 1
        start_s, end_s = min(self._start_s[slot], t_s), max(self._end_s[slot], t_s)
        self._set_slot(slot, centroid, weight + 1, start_s, end_s)
        return slot

    def _open(self, unit: np.ndarray, t_s: float) -> int:
        slot = self._count
        self._count += 1
        self._set_slot(slot, unit, weight=1, start_s=t_s, end_s=t_s)
        return slot

    def _merge_slots(self, kept: int, freed: int) -> None:
        """Merges slot `freed` into slot `kept`; of their detail frames, the one nearer the merged centroid stays."""
        weight_kept, weight_freed = int(self._weights[kept]), int(self._weights[freed])
        centroid = self._centroids[kept] * weight_kept + self._centroids[freed] * weight_freed  # (D,)
        start_s = min(self._start_s[kept], self._start_s[freed])
        end_s = max(self._end_s[kept], self._end_s[freed])
        self._set_slot(kept, centroid, weight_kept + weight_freed, start_s, end_s)
        self._merge_details(kept, freed)

    def _set_slot(self, slot: int, centroid: np.ndarray, weight: int, start_s: float, end_s: float) -> None:
        self._centroids[slot] = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
        self._weights[slot] = weight
        self._start_s[slot], self._end_s[slot] = start_s, end_s
        self._refresh(slot)

    def _refresh(self, slot: int) -> None:
        """Recomputes a changed slot's similarities, O(K D), and the nearest-slot bounds they touch, O(K)."""
        count = self._count
        row = self._centroids[:count] @ self._centroids[slot]  # (n,)
        self.centroid_products += 1
        row[slot] = _NO_SIMILARITY
        self._similarity[slot, :count] = row
        self._similarity[:count, slot] = row
        nearest = int(np.argmax(row))
        self._nearest[slot], self._nearest_bound[slot] = nearest, row[nearest]
        bounds = self._nearest_bound[:count]
        nearer = row > bounds  # (n,) slots to which this one is now the nearest
        self._nearest[:count][nearer] = slot
        bounds[nearer] = row[nearer]
        # A slot whose nearest was this one and is now farther keeps its bound: still an upper bound.

    def _closest_pair(self) -> tuple[int, int, float]:
        """The two most similar slots, heavier first, and their cosine; rescans only stale bounds at the top."""
        bounds = self._nearest_bound[: self._count]
        while True:
            first = int(np.argmax(bounds))
            second = int(self._nearest[first])
            exact = float(self._similarity[first, second])
            if exact >= bounds[first]:
                break
            row = self._similarity[first, : self._count]  # (n,)
            self._nearest[first] = int(np.argmax(row))
            bounds[first] = row[self._nearest[first]]
            self.rows_rescanned += 1
        if self._weights[second] > self._weights[first]:
            first, second = second, first
        return first, second, exact

    # The detail memory -------------------------------------------------------------------------

    def _offer_detail(self, slot: int, unit: np.ndarray, t_s: float, tokens: MergedTokens | None) -> Detail | None:
        """Makes the frame its slot's detail frame if the slot is among the D_max heaviest and the frame is
        nearer its centroid than the slot's detail frame; evicts the lightest slot's over D_max. O(K + D_max)."""
        limit = self.config.max_details
        if limit == 0 or int(np.count_nonzero(self._weights[: self._count] > self._weights[slot])) >= limit:
            return None
        centroid = self._centroids[slot]  # (D,)
        similarity = float(centroid @ unit)
        current = self._details.get(slot)
        if current is not None and float(current.feature @ centroid) >= similarity:
            return None
        detail = Detail(slot=slot, t_s=t_s, feature=unit.copy(), similarity=similarity, tokens=tokens)
        self._details[slot] = detail
        if len(self._details) > limit:
            lightest = min(self._details, key=lambda held: (self._weights[held], held == slot))
            del self._details[lightest]
        return self._details.get(slot)

    def _merge_details(self, kept: int, freed: int) -> None:
        freed_detail = self._details.pop(freed, None)
        if freed_detail is None:
            return
        kept_detail = self._details.get(kept)
        centroid = self._centroids[kept]  # (D,) the merged centroid
        if kept_detail is None or float(freed_detail.feature @ centroid) > float(kept_detail.feature @ centroid):
            freed_detail.slot = kept
            self._details[kept] = freed_detail
