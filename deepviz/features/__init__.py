"""Feature extractors (behind a registry) and importers of precomputed features."""
