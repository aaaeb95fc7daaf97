"""feedsvc: feeds for sites that have none. Importing it starts nothing."""

__version__ = "0.1.0"
