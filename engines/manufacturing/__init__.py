"""Manufacturing analysis engine: geometry facts (cached by content hash), DFM rules and pricing per method.

Pipeline: ``extract.extract`` / ``extract.facts_from_*`` (heavy: OCCT/trimesh/Embree) into ``facts.PartFacts`` -> ``metrics.part_metrics`` (numpy) -> each
method's rules and cost model (``methods/<method>``, registered in ``methods.METHODS``) through
``analysis.evaluate`` (findings) and ``pricing.quote`` (cost lines). Only ``extract`` (and the test parts of ``samples``) import build123d and OCP.
"""
