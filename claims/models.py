"""Models of the Claims app."""
