"""The algorithm core: pure numpy/scipy functions on arrays, no files, no network, no models."""
