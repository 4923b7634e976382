"""scaling: inference-scaling-law research toolkit.

Layers (imports point one way): ``fit`` is pure numerics; ``collect`` writes through the store;
``scaling`` owns the sample store, the FLOPs model, the simulator, the explorer and the CLI.
"""

__version__ = "0.1.0"
