"""CNC milling's catalogue rows: the data file's sections (``methods/cnc_milling.toml``) and the
``[materials.<id>.cnc_milling]`` tables of ``shared/data/materials.toml`` (removal and finishing rates,
minimum wall), with the checks the rules and the cost model's caveats share (stock size, setups)."""

from __future__ import annotations

from pydantic import Field

from engines.manufacturing.method import MaterialParams, Process, Programming, Source, _Data
from engines.manufacturing.metrics import PartMetrics
from engines.manufacturing.rules import fits


class CncBatch(_Data):
    """Production batches: a dedicated fixture holds several parts per load, so handling and the spindle's
    non-cutting time (tool changes, rapids) are shared; the fixture is built once per setup."""

    fixture_usd_per_setup: float = Field(ge=0)
    parts_per_fixture_max: int = Field(ge=1)
    fixture_spacing_mm: float = Field(ge=0)
    """Gap between stock blocks on the fixture (clamps, tool clearance)."""
    utilisation: float = Field(gt=0, le=1)
    """Share of spindle time spent cutting with a loaded multi-part fixture (the one-off share is ``time``'s)."""
    source: Source

    def parts_per_load(self, stock: tuple[float, float, float], travel: tuple[float, float, float]) -> int:
        """Stock blocks side by side on the table (either way round), at most ``parts_per_fixture_max``."""
        g = self.fixture_spacing_mm
        best = 0
        for a, b in ((stock[0], stock[1]), (stock[1], stock[0])):
            best = max(best, int((travel[0] + g) // (a + g)) * int((travel[1] + g) // (b + g)))
        return max(1, min(self.parts_per_fixture_max, best))


class CncTime(_Data):
    utilisation: float = Field(gt=0, le=1)
    load_unload_min_per_setup: float = Field(ge=0)
    source: Source


class CncLimits(_Data):
    stock_allowance_per_side_mm: float = Field(ge=0)
    tool_radius_standard_mm: float = Field(gt=0)
    tool_radius_min_mm: float = Field(gt=0)
    max_depth_to_tool_diameter: float = Field(gt=0)
    travel_x_mm: float = Field(gt=0)
    travel_y_mm: float = Field(gt=0)
    travel_z_mm: float = Field(gt=0)
    max_setups_warn: int = Field(ge=1)
    source: Source

    @property
    def travel_mm(self) -> tuple[float, float, float]:
        return (self.travel_x_mm, self.travel_y_mm, self.travel_z_mm)

    def stock_mm(self, m: PartMetrics) -> tuple[float, float, float]:
        """The stock block: the part's bounding box plus the allowance on every side."""
        a = self.stock_allowance_per_side_mm
        sx, sy, sz = (s + 2 * a for s in m.size_mm)
        return sx, sy, sz

    def stock_fits(self, stock: tuple[float, ...]) -> bool:
        """The stock fits the machine's travel in some axis order (CNC.STOCK_SIZE; the quote's caveat)."""
        return fits(stock, self.travel_mm)

    def corner_left_mm(self) -> float:
        """The radius a corner the mill cannot cut as modelled is left at, and the quote assumes."""
        return self.tool_radius_standard_mm

    def too_many_setups(self, setups: int) -> bool:
        return setups > self.max_setups_warn


class CncHoles(_Data):
    """Drilled holes (``CNC.HOLE_DEPTH``) and tap drills (``CNC.TAPPABLE_HOLE``)."""

    depth_ratio_drilled: float = Field(gt=0)
    """Depth over diameter a standard drill reaches in one pass (info at or below)."""
    depth_ratio_peck: float = Field(gt=0)
    """Up to this, peck drilling (warning); above it, deep-hole drilling (a further warning)."""
    depth_ratio_max: float = Field(gt=0)
    """Above this, no drilling a shop quotes as standard reaches (blocking)."""
    tap_drills_mm: dict[str, float]
    """ISO metric coarse thread -> its tap drill diameter."""
    tap_drill_tolerance_mm: float = Field(ge=0)
    source: Source


class CncFins(_Data):
    """Thin walls and fins standing along the tool axis (``CNC.FIN_ASPECT``)."""

    max_height_to_thickness: float = Field(gt=0)
    source: Source


class CncBands(_Data):
    material_pct: float = Field(ge=0)
    machining_pct: float = Field(ge=0)
    handling_pct: float = Field(ge=0)
    setup_pct: float = Field(ge=0)
    programming_pct: float = Field(ge=0)
    source: Source


class CncProcess(Process):
    programming: Programming
    time: CncTime
    batch: CncBatch
    limits: CncLimits
    holes: CncHoles
    fins: CncFins
    bands: CncBands


class CncMaterial(MaterialParams):
    """How fast a 3-axis mill removes and finishes this material, and its DFM floor."""

    mrr_cm3_per_min: float = Field(gt=0)
    """Roughing material-removal rate."""
    finish_cm2_per_min: float = Field(gt=0)
    """Finishing area rate over machined surfaces."""
    min_wall_mm: float = Field(gt=0)
