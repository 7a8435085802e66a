"""The campaign folder: takes a path (or none), gives a validated `Campaign` with its
recipients; also which recipients a run is for (`--to`), `init`, and the campaign's
translation commands."""
