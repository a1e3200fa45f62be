"""The simulator: parameters with provenance, the numba kernel, replicate trials and their
claim summaries (the lowest stage of the model; it imports no other stage)."""
