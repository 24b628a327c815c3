"""Development data: demo and benchmark data, and the one payer simulator both use."""
