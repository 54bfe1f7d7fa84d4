-- A sanction Discord refused or that failed is closed with why, so the record never
-- shows as in force what never happened.
ALTER TABLE cases ADD COLUMN outcome TEXT;
