"""The project folder: a versioned, memory-mapped, atomically written on-disk format."""
