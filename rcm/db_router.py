"""Optional read replica for dashboards (off by default).

Installed only when ``DATABASE_REPLICA_URL`` is set (see ``rcm.settings``). Reads of the models of the
apps in ``DATABASE_REPLICA_APPS`` (default: ``kpis``, whose snapshots tolerate a replica's lag of seconds)
go to the ``replica`` connection; every write, every other read and every migration stay on ``default``,
so a page never reads its own write from a lagging copy. Code that wants a replica read elsewhere says so
explicitly with ``.using("replica")``."""

from django.conf import settings


class ReplicaRouter:
    def _replica_apps(self) -> frozenset[str]:
        return frozenset(getattr(settings, "DATABASE_REPLICA_APPS", ("kpis",)))

    def db_for_read(self, model, **hints):
        if "replica" in settings.DATABASES and model._meta.app_label in self._replica_apps():
            return "replica"
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the same database

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
