"""Reconstructions: patients drawn from the model and chosen so that every published number
prints as published (the search), written as ADaM tables (realize), and their ensemble."""
