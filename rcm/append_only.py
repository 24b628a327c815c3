"""Append-only rows: the model layer refuses updates and deletes everywhere, and on PostgreSQL a
trigger refuses them in the database too (see ``refuse_changes_trigger``)."""

from django.db import migrations, models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an append-only row."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.label} rows are append-only: they cannot be updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model._meta.label} rows are append-only: they cannot be deleted.")

    _raw_delete = delete

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model._meta.label} rows are append-only: they cannot be updated.")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model._meta.label} rows are append-only: use create().")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._meta.label} rows are append-only: they cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.label} rows are append-only: they cannot be deleted.")


def refuse_changes_trigger(table: str) -> migrations.RunPython:
    """A migration operation that installs, on PostgreSQL only, a trigger refusing UPDATE and DELETE
    on ``table``. TRUNCATE (used by test teardown) is not a row change and stays possible for the owner."""

    function = f"{table}_refuse_change"

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION USING
                    MESSAGE = TG_TABLE_NAME || ' rows are append-only: ' || TG_OP || ' refused',
                    ERRCODE = 'integrity_constraint_violation';
            END;
            $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS {table}_append_only ON {table};
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {function}();
            """
        )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}; DROP FUNCTION IF EXISTS {function}();"
        )

    return migrations.RunPython(forwards, backwards, elidable=False)
