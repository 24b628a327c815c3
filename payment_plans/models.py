"""Models of the Payment plans app."""
