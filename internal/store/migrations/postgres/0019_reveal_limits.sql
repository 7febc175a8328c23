-- How many full patient values (ID number, phone, address) each caller
-- revealed per fixed window, so a cap holds across instances, and whether
-- quality was alerted for that window (once per window).
CREATE TABLE reveal_windows (
    actor        TEXT    NOT NULL,
    window_start BIGINT  NOT NULL,
    count        INTEGER NOT NULL,
    alerted      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (actor, window_start)
);
