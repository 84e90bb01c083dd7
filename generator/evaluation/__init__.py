"""The eval: the on-brief gate and the stage rubrics that score every draft, the suite runner, and the eval's own
measurements (calibration on labelled sets, retrieval quality)."""
