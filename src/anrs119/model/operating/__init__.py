"""Operating characteristics of a trial like ANRS 119, simulated from the model."""
