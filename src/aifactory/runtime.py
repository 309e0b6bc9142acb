"""The job gateway's composition root: the backend and gateway built from settings, and the reconciler
thread that ``aifactory serve`` runs beside the API."""

from __future__ import annotations

import getpass
import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from .backends.registry import build_backend
from .config import Settings
from .domain.notifications import MAX_ATTEMPTS
from .domain.storage import Limits
from .identity.registry import build_provisioner
from .services import delivery, jobs, notifications, uploads
from .services.accounting import AccountingState, accounting_pass
from .services.identities import IdentitySync
from .services.ports import BackendUnavailable, Clock, StoreUnavailable
from .services.storage_disk import StorageArea

log = logging.getLogger("aifactory.reconciler")


def _crash() -> None:
    """The fault the crash tests inject: die between "the backend has the job" and "its id is stored"."""
    os._exit(137)


def build_gateway(settings: Settings) -> jobs.Gateway:
    """The site's backend (``AIFACTORY_BACKEND``, built by its own ``from_settings``) and the gateway around
    it. No I/O happens here."""
    fault = _crash if settings.fault_injection == "crash-after-backend-submit" else None
    identities = build_identities(settings)
    return jobs.Gateway(
        backend=build_backend(settings),
        backend_name=settings.backend,
        site=settings.site,
        jobs_root=settings.jobs_root,
        submit_user=settings.slurm_submit_user or getpass.getuser(),
        orphan_after=timedelta(seconds=settings.orphan_after_seconds),
        after_backend_submit=fault,
        identities=identities,
        single_tenant=settings.local_single_tenant,
        storage=build_storage(settings, identities),
    )


def build_identities(settings: Settings) -> IdentitySync | None:
    """The POSIX identities' synchroniser (``AIFACTORY_IDENTITY_KIND``), or None when jobs run as the server's
    own user (kind ``none``, or ``auto`` without root). No I/O happens here."""
    provisioner = build_provisioner(settings)
    return None if provisioner is None else IdentitySync(provisioner, settings.identity_policy)


def build_storage(settings: Settings, identities: IdentitySync | None) -> StorageArea:
    """Project storage's folders and settings; its files belong to the project's group when jobs run as
    their owners (``identities``). No I/O happens here."""
    return StorageArea(
        data_dir=settings.data_dir,
        defaults=Limits(settings.storage_quota_bytes, settings.storage_quota_files),
        chunk_bytes=settings.storage_chunk_bytes,
        upload_seconds=settings.storage_upload_hours * 3600,
        identities=identities.policy if identities is not None else None,
    )


class Reconciler:
    """Runs the background passes every ``interval`` seconds on a daemon thread until stopped: the job
    reconcile (``services.jobs.reconcile``, which also settles finished jobs in the ledger), the accounting
    pass (``services.accounting``: soft-policy priorities, scheduler limits, jobs run outside the gateway;
    every ``accounting.interval``), allocation lifecycle notifications and review reminders, and their delivery
    (on a thread of its own, ``services.delivery``).

    A failing step (scheduler down, database busy, SMTP unreachable) is logged and retried at the next tick;
    it never stops the loop nor the other steps. ``kick()`` runs a pass right away."""

    def __init__(
        self,
        uow_factory: Any,
        clock: Clock,
        gateway: jobs.Gateway,
        interval: float,
        *,
        senders: Mapping[str, Any] | None = None,
        accounting: AccountingState | None = None,
        storage: StorageArea | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.uow_factory, self.clock, self.gateway, self.interval = uow_factory, clock, gateway, interval
        self.senders = dict(senders or {})
        self.accounting = accounting or AccountingState()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self.failures = 0
        self._lifecycle_at: datetime | None = None
        self._delivery: threading.Thread | None = None
        self.max_attempts = max_attempts
        self.storage = storage
        self._storage_at: datetime | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="aifactory-reconciler", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.wait_for_delivery(timeout)

    def run_once(self) -> int:
        self._step("identity sync", self._identities)
        moves = self._step("job reconcile", lambda: jobs.reconcile(self.uow_factory, self.clock, self.gateway)) or 0
        report = self._step(
            "accounting", lambda: accounting_pass(self.uow_factory, self.clock, self.gateway, self.accounting)
        )
        if report is not None and (
            report.external_charged or report.external_skipped or report.limits_set or report.failures
        ):
            log.info(
                "accounting: %d outside job(s) charged, skipped %s, limits set %s, priorities %s, failed %s",
                report.external_charged,
                report.external_skipped or "none",
                report.limits_set or "none",
                report.priorities_changed or "unchanged",
                sorted(report.failures) or "none",
            )
        self._step("notifications", self._notifications)
        self._step("storage cleanup", self._storage_cleanup)
        self.passes += 1
        return moves

    def _identities(self) -> None:
        """POSIX identities: allocate what is missing, converge the directory and the scheduler's associations
        (each identity's failure is logged inside and retried at the next pass)."""
        sync = self.gateway.identities
        if sync is None:
            return
        report = sync.sync(self.uow_factory, self.clock, self.gateway.backend)
        if report.allocated or report.applied:
            log.info("identities: %d allocated, applied %s", report.allocated, ", ".join(report.applied) or "none")

    def _notifications(self) -> None:
        """Expiry and review reminders when due (a matter of days: not a write transaction every tick), then a
        delivery pass on a thread of its own, unless the last one still runs (a slow SMTP server never holds up
        the jobs)."""
        now = self.clock.now()
        if self._lifecycle_at is None or now - self._lifecycle_at >= self.accounting.interval:
            with self.uow_factory() as uow:
                notifications.note_lifecycle(uow, self.clock)
            with self.uow_factory() as uow:
                notifications.note_reviews(uow, self.clock)
            self._lifecycle_at = now
        if self._delivery is None or not self._delivery.is_alive():
            self._delivery = threading.Thread(
                target=self._step, args=("notification delivery", self._deliver), name="aifactory-delivery", daemon=True
            )
            self._delivery.start()

    def _deliver(self) -> None:
        report = delivery.deliver_pending(self.uow_factory, self.clock, self.senders, max_attempts=self.max_attempts)
        if report.errors:
            log.warning(
                "notifications: %d delivered, %d to retry, %d failed, %d deferred: %s",
                report.delivered,
                report.retrying,
                report.failed,
                report.deferred,
                report.errors[0],
            )

    def wait_for_delivery(self, timeout: float = 30) -> None:
        """Until the delivery pass under way (if any) is over (tests, and stopping)."""
        if self._delivery is not None:
            self._delivery.join(timeout)

    def _storage_cleanup(self) -> None:
        """Abandoned uploads (``AIFACTORY_STORAGE_UPLOAD_HOURS``) removed, at most once a minute."""
        if self.storage is None:
            return
        now = self.clock.now()
        if self._storage_at is not None and now - self._storage_at < timedelta(minutes=1):
            return
        uploads.expire(self.uow_factory, self.clock, self.storage)
        self._storage_at = now

    def _step(self, what: str, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except StoreUnavailable as exc:  # one line, not a traceback per pass while the database is away
            self.failures += 1
            log.warning("%s failed: database unavailable (%s); retrying in %.1fs", what, exc, self.interval)
            return None
        except BackendUnavailable as exc:  # an outage of the scheduler: one line too; the work waits for it
            self.failures += 1
            log.warning("%s failed: the job backend is unavailable (%s); retrying in %.1fs", what, exc, self.interval)
            return None
        except Exception:  # noqa: BLE001 - the loop must survive a bad pass; the log says why
            self.failures += 1
            log.exception("%s failed; retrying in %.1fs", what, self.interval)
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._wake.wait(self.interval)
            self._wake.clear()
