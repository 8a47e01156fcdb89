"""Studies: grids of (benchmark x component x seed x size) with append-only, resumable results."""

from __future__ import annotations

from predictbench.studies.predictor_study import DEFAULT_TRAIN_SIZES, PredictorStudy
from predictbench.studies.results import ResultsFile, read_results

__all__ = ["DEFAULT_TRAIN_SIZES", "PredictorStudy", "ResultsFile", "read_results"]
