"""The algorithm core: functions on arrays (numpy/scipy; openTSNE and scikit-learn imported lazily), no files, network or models."""
