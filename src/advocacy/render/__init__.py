"""A batch of letters: takes a `Campaign` and options, gives files in an output folder
with a manifest, rendered in a pool and only where their inputs changed."""
