"""Models of the Denials app."""
