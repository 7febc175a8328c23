-- Claims and personal assignments are rare next to the plan's tasks, so
-- their indexes hold only the rows that have one: an import, whose tasks
-- are all unclaimed and unassigned, no longer pays a random-order B-tree
-- insert per task for them.
DROP INDEX followup_tasks_assignee;
CREATE INDEX followup_tasks_claimed ON followup_tasks(claimed_by, status) WHERE claimed_by <> 0;
CREATE INDEX followup_tasks_assigned ON followup_tasks(assignee_id, status) WHERE assignee_id <> 0;
