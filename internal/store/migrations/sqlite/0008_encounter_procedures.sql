-- Operation names (手术名称) of a stay, as a JSON array of strings; the
-- surgery flag alone could not tell an agent which operation to ask about.
ALTER TABLE encounters ADD COLUMN procedures TEXT NOT NULL DEFAULT '[]';
