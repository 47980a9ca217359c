"""Protection chain models (R5–R7)."""
