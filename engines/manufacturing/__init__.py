"""Manufacturing analysis engine: geometry facts (cached by content hash), DFM rules and pricing per method.

Pipeline: ``facts.extract_*`` (heavy: OCCT/trimesh/Embree) -> ``metrics.part_metrics`` (numpy) ->
``rules.assess`` (findings) and ``pricing.quote`` (cost lines). Only ``facts`` imports build123d.
"""
