from celery import shared_task


@shared_task(name="rcm.ping", time_limit=30, soft_time_limit=25)
def ping(nonce: str) -> str:
    """Round-trip check for the broker, a worker and the result backend."""
    return f"pong {nonce}"


@shared_task(name="rcm.outbox_sweep", time_limit=300, soft_time_limit=280)
def outbox_sweep() -> dict:
    """Publish the outbox rows the broker never took (``rcm.outbox``)."""
    from rcm.outbox import outbox_sweep as sweep

    return sweep()
