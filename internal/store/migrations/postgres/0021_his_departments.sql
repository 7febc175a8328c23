-- Departments the HIS names before anyone set them up: an import creates
-- them from the code and name it receives, marked source = 'his' until an
-- administrator reviews them (the departments page lists them apart).
ALTER TABLE departments ADD COLUMN source TEXT NOT NULL DEFAULT '';

-- A hospital whose HIS codes differ from the department codes in Suifang
-- maps each HIS code to an existing department; imports then use it.
CREATE TABLE department_his_codes (
    institution_id BIGINT NOT NULL REFERENCES institutions(id),
    his_code       TEXT    NOT NULL,
    department_id  BIGINT NOT NULL REFERENCES departments(id),
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (institution_id, his_code)
);

-- A bereavement-care step (a rule step "for deceased") is the one call a
-- death does not close.
ALTER TABLE followup_tasks ADD COLUMN for_deceased BOOLEAN NOT NULL DEFAULT FALSE;
