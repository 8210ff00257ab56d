"""The simulated media, one module each."""
