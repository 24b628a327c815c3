"""Reminders: messages to patients about their plans and balances, sent once, within the rules."""
