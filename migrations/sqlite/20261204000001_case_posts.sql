-- Where each case was posted in the server's case log (so an edit of its reason edits the
-- post), and whether the member could be told by DM.
ALTER TABLE cases ADD COLUMN post_channel_id INTEGER;
ALTER TABLE cases ADD COLUMN post_message_id INTEGER;
ALTER TABLE cases ADD COLUMN dm TEXT;
