"""Commands of `backprop` (module reserved; filled in by its issue)."""
