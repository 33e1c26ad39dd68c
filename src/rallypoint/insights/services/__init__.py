"""Insights computations, one module per intent (import from the module itself)."""
