"""Manufacturing analysis engine: geometry facts (cached by content hash), DFM rules and pricing per method.

Pipeline: ``facts.extract_*`` (heavy: OCCT/trimesh/Embree) -> ``metrics.part_metrics`` (numpy) -> each
method's rules and cost model (``methods/<method>``, registered in ``methods.METHODS``) through
``analysis.evaluate`` (findings) and ``pricing.quote`` (cost lines). Only ``facts`` imports build123d.
"""
