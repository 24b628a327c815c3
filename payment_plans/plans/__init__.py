"""Payment plans: affordability, schedules, the plan state machine, services, reads, pages and API."""
