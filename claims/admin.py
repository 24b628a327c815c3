"""Admin registrations of the Claims app."""
