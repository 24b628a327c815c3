"""Delivery to a real SFTP server on loopback, started by the test itself (asyncssh's server)."""

import asyncio
import socket
import threading
from pathlib import Path

import asyncssh
import pytest

from claims.models import BatchStatus, Claim, ClaimStatus, DeliveryAttempt, RemoteFile
from claims.state_machine import claim_transition
from claims.submission.batches import claims_submit
from claims.submission.delivery import DeliveryError, batch_deliver, clearinghouse_pickup
from claims.tasks import deliver_batch
from tests.claims.test_acknowledgments import SAMPLES

PASSWORD = "s3cret-sftp-password"


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return username == "rcm" and password == PASSWORD


class LoopbackSFTP:
    """An SFTP server rooted in a temporary folder, on 127.0.0.1 and a free port, in its own thread."""

    def __init__(self, root: Path):
        self.root = root
        self.key = asyncssh.generate_private_key("ssh-ed25519")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)

        async def start():
            self.server = await asyncssh.listen(
                "127.0.0.1",
                self.port,
                server_host_keys=[self.key],
                server_factory=_Server,
                sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(self.root).encode()),
            )
            self.ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        async def stop():
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def host_key(self) -> str:
        return self.key.export_public_key().decode().strip()


@pytest.fixture
def sftp(tmp_path, monkeypatch):
    (tmp_path / "inbound").mkdir()
    (tmp_path / "outbound").mkdir()
    monkeypatch.setenv("RCM_TEST_SFTP_PASSWORD", PASSWORD)
    with LoopbackSFTP(tmp_path) as server:
        yield server


def configure(billing, sftp, secret="env:RCM_TEST_SFTP_PASSWORD"):
    clearinghouse = billing.clearinghouse
    clearinghouse.sftp_host, clearinghouse.sftp_port, clearinghouse.sftp_username = (
        "127.0.0.1",
        sftp.port,
        "rcm",
    )
    clearinghouse.sftp_secret_ref, clearinghouse.sftp_host_key = secret, sftp.host_key
    clearinghouse.sftp_outbox, clearinghouse.sftp_inbox = "/inbound", "/outbound"
    clearinghouse.save()


def built_batch(billing):
    claim = billing.claim()
    claim_transition(claim=claim, to_status="ready")
    (batch,) = claims_submit(practice=billing.practice).batches
    return batch


def test_a_batch_is_uploaded_whole_and_the_attempt_recorded(billing, sftp):
    configure(billing, sftp)
    batch = built_batch(billing)
    attempt = batch_deliver(batch=batch)
    assert attempt.ok and attempt.message == f"Uploaded to 127.0.0.1:/inbound/{batch.file_name}"
    assert (sftp.root / "inbound" / batch.file_name).read_text() == batch.content
    assert not list((sftp.root / "inbound").glob("*.part"))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SENT


def test_a_wrong_password_is_recorded_and_raised_for_retry(billing, sftp, monkeypatch):
    configure(billing, sftp)
    monkeypatch.setenv("RCM_TEST_SFTP_PASSWORD", "wrong")
    batch = built_batch(billing)
    with pytest.raises(DeliveryError):
        batch_deliver(batch=batch)
    attempt = DeliveryAttempt.objects.get(batch=batch)
    assert attempt.ok is False and "Permission denied" in attempt.message
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SEND_FAILED
    assert PASSWORD not in attempt.message


def test_missing_secret_is_a_configuration_problem_not_a_retry(billing, sftp):
    configure(billing, sftp, secret="env:RCM_NO_SUCH_VARIABLE")
    batch = built_batch(billing)
    attempt = batch_deliver(batch=batch)
    assert (attempt.ok, attempt.message) == (
        False,
        "The environment variable RCM_NO_SUCH_VARIABLE holding the SFTP password is not set.",
    )


def test_an_unknown_host_key_is_refused(billing, sftp):
    configure(billing, sftp)
    billing.clearinghouse.sftp_host_key = (
        asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    )
    billing.clearinghouse.save()
    with pytest.raises(DeliveryError):
        batch_deliver(batch=built_batch(billing))


def test_the_delivery_task_sends_once(billing, sftp, settings):
    configure(billing, sftp)
    batch = built_batch(billing)
    assert deliver_batch.apply(args=[batch.pk]).get().startswith("Uploaded to")
    assert deliver_batch.apply(args=[batch.pk]).get() == f"batch {batch.pk} already sent"
    assert DeliveryAttempt.objects.filter(batch=batch).count() == 1


def test_pickup_fetches_and_imports_each_file_once(billing, sftp):
    configure(billing, sftp)
    claim = billing.claim()
    Claim.objects.filter(pk=claim.pk).update(patient_control_number="3920394930203")
    for status in ("ready", "submitted"):
        claim_transition(claim=claim, to_status=status)
    (sftp.root / "outbound" / "r.277").write_bytes(
        (SAMPLES / "acks/imsweb-x12_277CA_rejected.277").read_bytes()
    )
    messages = clearinghouse_pickup(clearinghouse=billing.clearinghouse)
    assert messages == ["r.277 (277CA claim acknowledgment) imported: 0 claims accepted, 1 claim rejected."]
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    assert clearinghouse_pickup(clearinghouse=billing.clearinghouse) == []
    assert RemoteFile.objects.get().x12_file.status == "applied"
