-- Background jobs, claimed by one worker at a time; times in Unix milliseconds.
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    locked_by TEXT,
    locked_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX jobs_ready ON jobs (status, run_at);

-- Recurring jobs: the worker that advances next_run_at enqueues the run.
CREATE TABLE job_schedules (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    next_run_at BIGINT NOT NULL
);
