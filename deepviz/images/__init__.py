"""Finding images on disk, decoding them once, and packing their thumbnails."""
