-- Follow-up KPI targets per institution (issue 12). Each hospital may change
-- its targets, never the definitions (docs/kpis.md). Values are basis points
-- (9000 = 90%): integers compare exactly on both engines. An institution
-- without a row uses the defaults in internal/kpi.
CREATE TABLE kpi_targets (
    institution_id        BIGINT PRIMARY KEY REFERENCES institutions(id),
    coverage              INTEGER NOT NULL,
    first_contact         INTEGER NOT NULL,
    satisfaction          INTEGER NOT NULL,
    complaint_on_time     INTEGER NOT NULL,
    complaint_closure     INTEGER NOT NULL,
    appointment_rate      INTEGER NOT NULL,
    recommendation_growth INTEGER NOT NULL,
    updated_by            BIGINT NOT NULL DEFAULT 0,
    updated_at            BIGINT NOT NULL
);
