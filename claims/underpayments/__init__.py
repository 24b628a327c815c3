"""Underpayments: variances of adjudicated lines against the contract, the claims paid short and what
people do about them, and drift findings (a payer allowing a code below contract across many claims)."""
