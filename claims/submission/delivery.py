"""Sending batches to the clearinghouse and fetching its files, over SFTP (asyncssh).

asyncssh is a well-kept SSH library with both the client and an SFTP server, which lets the tests
run a real server on loopback. Secrets stay out of the database: ``Clearinghouse.sftp_secret_ref``
names an environment variable or a file. The server's host key must be known unless
``RCM_SFTP_ALLOW_UNKNOWN_HOST_KEYS`` is set (for a first connection in test set-ups only)."""

import asyncio
import os
import posixpath
from pathlib import Path

import asyncssh
from django.db import transaction
from django.utils import timezone

from claims.edi.intake import x12_import
from claims.models import BatchStatus, Clearinghouse, DeliveryAttempt, RemoteFile, SubmissionBatch
from claims.submission.errors import DeliveryConfigError, DeliveryError

CONNECT_TIMEOUT = 20


def _secret(reference: str) -> str:
    kind, _, name = reference.partition(":")
    if kind == "env":
        value = os.environ.get(name)
        if not value:
            raise DeliveryConfigError(
                f"The environment variable {name} holding the SFTP password is not set."
            )
        return value
    if kind == "file":
        try:
            return Path(name).read_text().strip()
        except OSError as exc:
            raise DeliveryConfigError(
                f"The SFTP password file {name} cannot be read ({exc.strerror})."
            ) from None
    raise DeliveryConfigError("The SFTP secret reference must look like env:VARIABLE or file:/path.")


def _connect_options(clearinghouse: Clearinghouse) -> dict:
    if not (clearinghouse.sftp_host and clearinghouse.sftp_username and clearinghouse.sftp_secret_ref):
        raise DeliveryConfigError(
            f"{clearinghouse.name} has no SFTP host, user name or secret reference set."
        )
    if clearinghouse.sftp_host_key:
        known_hosts = asyncssh.import_known_hosts(
            f"[{clearinghouse.sftp_host}]:{clearinghouse.sftp_port} {clearinghouse.sftp_host_key.strip()}\n"
            f"{clearinghouse.sftp_host} {clearinghouse.sftp_host_key.strip()}\n"
        )
    elif os.environ.get("RCM_SFTP_ALLOW_UNKNOWN_HOST_KEYS") == "1":
        known_hosts = None
    else:
        raise DeliveryConfigError(
            f"{clearinghouse.name}: record the SFTP server's host key before connecting."
        )
    return {
        "host": clearinghouse.sftp_host,
        "port": clearinghouse.sftp_port,
        "username": clearinghouse.sftp_username,
        "password": _secret(clearinghouse.sftp_secret_ref),
        "known_hosts": known_hosts,
        "client_keys": None,
        "connect_timeout": CONNECT_TIMEOUT,
    }


async def _upload(options: dict, remote_path: str, data: bytes) -> None:
    async with asyncssh.connect(**options) as connection, connection.start_sftp_client() as sftp:
        partial = remote_path + ".part"
        async with sftp.open(partial, "wb") as handle:
            await handle.write(data)
        await sftp.rename(partial, remote_path)  # the clearinghouse never sees half a file


async def _list_and_fetch(options: dict, folder: str, skip: set[str]) -> list[tuple[str, bytes]]:
    fetched = []
    async with asyncssh.connect(**options) as connection, connection.start_sftp_client() as sftp:
        for name in sorted(await sftp.listdir(folder)):
            if name in (".", "..") or name in skip or name.endswith(".part"):
                continue
            path = posixpath.join(folder, name)
            if not (await sftp.isfile(path)):
                continue
            async with sftp.open(path, "rb") as handle:
                fetched.append((name, await handle.read()))
    return fetched


def batch_deliver(*, batch: SubmissionBatch) -> DeliveryAttempt:
    """Upload the batch's 837P to the clearinghouse's outbox folder and record the attempt.

    Raises DeliveryError (after recording it) when the transfer failed and is worth retrying."""
    clearinghouse = batch.clearinghouse
    try:
        options = _connect_options(clearinghouse)
        remote = posixpath.join(clearinghouse.sftp_outbox, batch.file_name)
        asyncio.run(_upload(options, remote, batch.content.encode("ascii", errors="replace")))
    except DeliveryConfigError as exc:
        return _record(batch, ok=False, message=str(exc))
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        _record(batch, ok=False, message=f"{type(exc).__name__}: {exc}"[:500])
        raise DeliveryError(str(exc)) from exc
    return _record(batch, ok=True, message=f"Uploaded to {clearinghouse.sftp_host}:{remote}")


def _record(batch: SubmissionBatch, *, ok: bool, message: str) -> DeliveryAttempt:
    with transaction.atomic():
        attempt = DeliveryAttempt.objects.create(batch=batch, ok=ok, message=message[:500], at=timezone.now())
        if batch.status in (BatchStatus.BUILT, BatchStatus.SEND_FAILED, BatchStatus.SENT):
            SubmissionBatch.objects.filter(pk=batch.pk).update(
                status=BatchStatus.SENT if ok else BatchStatus.SEND_FAILED
            )
    return attempt


def clearinghouse_pickup(*, clearinghouse: Clearinghouse) -> list[str]:
    """Fetch new files from the clearinghouse's inbox folder and import each (999, 277CA, 835).
    A file is fetched once; the import itself is idempotent too. Returns one message per file."""
    seen = set(RemoteFile.objects.filter(clearinghouse=clearinghouse).values_list("name", flat=True))
    try:
        files = asyncio.run(_list_and_fetch(_connect_options(clearinghouse), clearinghouse.sftp_inbox, seen))
    except (TimeoutError, OSError, asyncssh.Error) as exc:
        raise DeliveryError(str(exc)) from exc
    messages = []
    for name, data in files:
        result = x12_import(practice=clearinghouse.practice, file_name=name, content=data, source="sftp")
        RemoteFile.objects.create(
            clearinghouse=clearinghouse, name=name, size=len(data), x12_file=result.file
        )
        messages.append(result.message)
    return messages
