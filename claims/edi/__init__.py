"""X12 005010 for professional claims: building 837P batches, reading 999/277CA/835 files, and
validating with pyx12's implementation-guide maps."""
