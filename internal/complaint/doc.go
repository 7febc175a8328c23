// Package complaint is complaint handling (投诉管理): every complaint is
// registered in one place by whoever received it (首诉负责制), owned by a
// named person, measured against SLA milestones counted in Chinese working
// days and service hours, escalated when a milestone passes, and kept as an
// append-only, hash-chained history until it is archived.
package complaint
