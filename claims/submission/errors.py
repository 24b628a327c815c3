"""Why a delivery to the clearinghouse failed. A leaf module (no app imports) so the Celery tasks can
name the retryable error at import time without importing the delivery code."""


class DeliveryError(Exception):
    """The clearinghouse could not be reached or refused the transfer: worth retrying."""


class DeliveryConfigError(Exception):
    """The clearinghouse is not set up for SFTP (missing host, user or secret): retrying will not help."""
