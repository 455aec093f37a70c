"""The function a request calls to defer the replies drain (apps/integrations/drain.py).

In PL/pgSQL so that «is a drain job waiting?» is read with a snapshot taken *after* the shared
barrier lock: a plain statement's snapshot is taken when it starts, before the lock, and could
still see a drain waiting that has meanwhile started, found nothing and ended.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION integrations_defer_reply_drain(
    barrier bigint, queue character varying, task character varying, job_priority integer,
    job_lock character varying, lock_name character varying
) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Held until this transaction ends: a drain does not finish while a reply it may be counted on
    -- for is uncommitted.
    PERFORM pg_advisory_xact_lock_shared(barrier);
    IF NOT EXISTS (
        SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = lock_name AND status = 'todo'
    ) THEN
        -- As procrastinate_defer_jobs_v1 writes it; ON CONFLICT: another request just did the same.
        INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
        VALUES (queue, task, job_priority, job_lock, lock_name, '{}'::jsonb, NULL)
        ON CONFLICT (queueing_lock) WHERE status = 'todo' DO NOTHING;
    END IF;
END;
$$;
"""

DROP = (
    "DROP FUNCTION IF EXISTS integrations_defer_reply_drain("
    "bigint, character varying, character varying, integer, character varying, character varying);"
)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0005_outbound_drain"),
        ("procrastinate", "0041_post_retry_failed_job"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
