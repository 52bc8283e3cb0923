"""Broadphase for pairwise interference checks: sort-and-sweep over axis-aligned bounding boxes.

Only the pairs whose boxes overlap (touching included) go on to the exact, expensive BRep check.
"""

from __future__ import annotations

from collections.abc import Sequence

Vec3 = tuple[float, float, float]
AABB = tuple[Vec3, Vec3]


def sweep_and_prune(boxes: Sequence[AABB]) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)`` with ``i < j`` whose closed boxes overlap on every axis, sorted.

    Sweeps along x (boxes sorted by their minimum x) keeping an active list of boxes whose x-interval
    still reaches the sweep position, then tests y and z on the surviving pairs. Closed intervals are
    used, so boxes that only touch are reported: the exact check decides whether they interfere.
    """
    for i, (lo, hi) in enumerate(boxes):
        if any(a > b for a, b in zip(lo, hi)):
            raise ValueError(f"box {i} has min {lo} greater than max {hi}")
    order = sorted(range(len(boxes)), key=lambda k: (boxes[k][0][0], k))
    active: list[int] = []
    pairs: list[tuple[int, int]] = []
    for i in order:
        lo_i, hi_i = boxes[i]
        active = [j for j in active if boxes[j][1][0] >= lo_i[0]]
        for j in active:
            lo_j, hi_j = boxes[j]
            if lo_i[1] <= hi_j[1] and lo_j[1] <= hi_i[1] and lo_i[2] <= hi_j[2] and lo_j[2] <= hi_i[2]:
                pairs.append((min(i, j), max(i, j)))
        active.append(i)
    pairs.sort()
    return pairs
