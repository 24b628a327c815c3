"""Admin registrations of the KPIs app."""
