"""Who sees long work and the job queue (applied by accounts.sync_role_groups). Everybody sees the
progress of what they started themselves (the API checks the owner); the supervisor sees all of
it, and the queue's jobs, failures and retries in the admin."""

ROLE_PERMISSIONS = {
    "operator": [],
    "accountant": [],
    "supervisor": [
        "jobs.view_jobprogress",
        "jobs.view_queuejob",
        "jobs.view_queueevent",
    ],
}
