"""Admin registrations of the Payment plans app."""
