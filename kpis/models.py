"""Models of the KPIs app."""
