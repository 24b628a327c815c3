"""Admin registrations of the Denials app."""
