"""advocacy: turn a resolution's demands into localized letters to governments."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("advocacy")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
