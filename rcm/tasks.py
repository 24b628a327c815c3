from celery import shared_task


@shared_task(name="rcm.ping", time_limit=30, soft_time_limit=25)
def ping(nonce: str) -> str:
    """Round-trip check for the broker, a worker and the result backend."""
    return f"pong {nonce}"
