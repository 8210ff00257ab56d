"""The four services of the local stack, in start order."""
