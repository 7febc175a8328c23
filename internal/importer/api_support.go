package importer

import (
	"context"
	"slices"

	"suifang/internal/access"
	"suifang/internal/intake"
)

// ImportEach stores msgs like ImportStream does — same routing, patient
// archive, planning, import batch and audit entry — but each message in a
// transaction of its own, and calls fn after each with what that message
// alone did: a Report whose counters are 0 or 1 and whose Rejects holds its
// reject, if any. The JSON API's bulk upload answers per item from it. An
// error from fn stops the import (the batch is marked failed) and is
// returned. The returned Report covers the whole call; any other error means
// storage failed.
func (s *Service) ImportEach(ctx context.Context, p *access.Principal, opt Options, msgs []intake.Message, fn func(i int, r Report) error) (*Report, error) {
	opt.BatchSize = 1 // a flush per message: its effect is the difference of the counters
	opt.KeepRejects = max(opt.KeepRejects, len(msgs), 1)
	start := s.now()
	im, err := s.newRun(ctx, p, opt)
	if err != nil {
		return nil, err
	}
	rep := im.rep
	var perr error
	for i, m := range msgs {
		before, nrej, nwarn := *rep, len(rep.Rejects), len(rep.Warnings)
		if err := im.add(ctx, m); err != nil {
			perr = storeErr(err)
			break
		}
		one := Report{BatchID: rep.BatchID, Filename: rep.Filename, Format: rep.Format,
			Messages: rep.Messages - before.Messages, New: rep.New - before.New, Updated: rep.Updated - before.Updated,
			Unchanged: rep.Unchanged - before.Unchanged, Cancelled: rep.Cancelled - before.Cancelled,
			TasksCreated: rep.TasksCreated - before.TasksCreated, TasksCancelled: rep.TasksCancelled - before.TasksCancelled,
			TasksReplanned: rep.TasksReplanned - before.TasksReplanned,
			Skipped:        rep.Skipped - before.Skipped, Rejected: rep.Rejected - before.Rejected,
			Rejects: slices.Clone(rep.Rejects[nrej:]), Visits: rep.Visits - before.Visits,
			Warned: rep.Warned - before.Warned, Warnings: slices.Clone(rep.Warnings[nwarn:])}
		if fn != nil {
			if perr = fn(i, one); perr != nil {
				break
			}
		}
	}
	rep.Duration = s.now().Sub(start)
	if ferr := im.finish(ctx, perr); ferr != nil && perr == nil {
		perr = ferr
	}
	return rep, perr
}
