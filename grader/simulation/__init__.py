"""Checking by simulation: Monte Carlo expectations, derivation steps, dynamics and divergences."""
