"""The five services of the local stack, in start order."""
