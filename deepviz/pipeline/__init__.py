"""The build pipeline: scan -> decode once -> features + thumbnails -> layout -> grid -> project."""
