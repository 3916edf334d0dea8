-- The nearest running deadline of a stream (its overall, stages', an irregularity's answer), so
-- that the deadline watch and a "due soonest" list read only the streams due soon. Rows written
-- before it are due at the nearer of their deadline and their stage's, all they hold; an
-- irregularity's deadline is added by the stream's next commit. Only active streams are asked for by it: the indexes are
-- partial, as the deadline dashboard's.
ALTER TABLE dossier_summaries ADD COLUMN next_due date;
UPDATE dossier_summaries SET next_due = least(deadline, stage_deadline);
ALTER TABLE dossier_summaries ALTER COLUMN next_due SET NOT NULL;
CREATE INDEX dossier_summaries_a_next_due ON dossier_summaries (next_due, stream) WHERE active;
CREATE INDEX dossier_summaries_a_unit_next ON dossier_summaries (unit, next_due, stream) WHERE active;
CREATE INDEX dossier_summaries_a_assignee_next ON dossier_summaries (assignee, next_due, stream) WHERE active;
