"""The payload's world axis-aligned bounding box in its current orientation, for the runner's forbidden-zone
check: a sphere's is its centre ± radius whatever its orientation; a box's, a cylinder's and a capsule's
follow their rotation (a box stood on end reaches lower than one lying flat)."""

from __future__ import annotations

import mujoco
import numpy as np

from engines.physics.mjcf import MM_TO_M
from shared.models import Payload


class PayloadExtent:
    """Half the payload's world AABB (m) for an orientation quaternion (w, x, y, z)."""

    def __init__(self, payload: Payload) -> None:
        self.shape = payload.shape
        self.half_m = np.asarray(payload.half_extents_mm, dtype=np.float64) * MM_TO_M
        self.radius_m = (payload.radius_mm or 0.0) * MM_TO_M
        self.rot = np.empty(9)

    def __call__(self, quat: np.ndarray) -> tuple[float, float, float]:
        if self.shape == "sphere":
            r = self.radius_m
            return r, r, r
        mujoco.mju_quat2Mat(self.rot, np.asarray(quat, dtype=np.float64))
        rot = np.abs(self.rot.reshape(3, 3))
        if self.shape == "box":
            hx, hy, hz = (rot @ self.half_m).tolist()
            return hx, hy, hz
        # A cylinder or a capsule: its axis is the body's z column; half_m[2] is half its spawn AABB's height.
        axis, r = rot[:, 2], self.radius_m
        if self.shape == "capsule":
            hx, hy, hz = (axis * (self.half_m[2] - r) + r).tolist()
        else:
            hx, hy, hz = (axis * self.half_m[2] + r * np.sqrt(np.maximum(1.0 - axis * axis, 0.0))).tolist()
        return hx, hy, hz
